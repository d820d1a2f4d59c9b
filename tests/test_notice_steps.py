"""The compose form's steps, written once (handlers/broadcast/states.py): the way through
them follows the answers, ⬅ Back retraces it, and an answer that is not what a step asked
gets the step's own hint; an old-format button gets the polite refusal."""

from __future__ import annotations

from handlers.broadcast.states import NoticeForm, next_step, previous_step
from models import Role
from simulator.limits import Limits
from simulator.server import run_simulator
from tests.flows import compose_notice
from tests.scheduler_harness import bot_on


def _walk(data: dict) -> list[str]:
    step, path = NoticeForm.text, []
    while step != NoticeForm.preview:
        path.append(step.state.split(":")[1])
        step = next_step(step, data)
    return path


def test_a_station_head_goes_from_the_text_to_their_villages():
    head = {"approval": True, "kind": "stations", "mode": "now"}
    assert _walk(head) == ["text", "villages", "when"]
    assert previous_step(NoticeForm.villages, head) == NoticeForm.text
    assert previous_step(NoticeForm.text, head) is None


def test_a_monthly_notice_asks_the_day_of_the_month_then_the_time():
    office = {"approval": False, "kind": "team", "mode": "repeat", "rule": {"kind": "monthly"}}
    assert _walk(office) == ["text", "audience", "team", "when", "repeat", "monthday", "time"]
    assert previous_step(NoticeForm.preview, office) == NoticeForm.time
    assert previous_step(NoticeForm.when, office) == NoticeForm.team


def test_a_notice_now_skips_the_day_and_time_both_ways():
    office = {"approval": False, "kind": "everyone", "mode": "now", "rule": {"kind": "weekly"}}
    assert _walk(office) == ["text", "audience", "when"]
    assert previous_step(NoticeForm.preview, office) == NoticeForm.when
    assert previous_step(NoticeForm.when, office) == NoticeForm.audience


async def test_back_and_an_unexpected_answer_in_the_chat(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media") as env,
    ):
        office = await env.person("Office Wu", role=Role.OFFICE)
        audience = await compose_notice(office, "Policy talk on Friday", reply="Who should get it")

        await office.send("everyone please")  # words where a button was asked
        await office.expect(contains="tap one of the buttons above")
        await office.press_data(audience, "nt:aud:everyone")  # a button of the old format
        assert "no longer valid" in (await office.callback_answer()).text

        await office.press("Everyone", message=audience)
        when = await office.expect_edit(audience.message_id)
        assert "When should it go out" in when.text
        await office.tap("⬅ Back")
        again = await office.expect(contains="Who should get it")
        await office.press("All volunteers", message=again)
        when = await office.expect_edit(again.message_id)
        await office.press("▶ Now", message=when)
        summary = await office.expect(contains="This is how it will look")
        assert "All volunteers" in summary.text

        # back through every step, and out
        for step in ("When should it go out", "Who should get it", "Write the notice"):
            await office.tap("⬅ Back")
            await office.expect(contains=step)
        await office.tap("⬅ Back")
        await office.expect(contains="Nothing was saved")
        await office.press("✅ Send", message=summary)  # the old preview: given up
        assert "no longer valid" in (await office.callback_answer()).text
