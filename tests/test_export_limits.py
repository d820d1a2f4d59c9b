"""Exports are expensive: one at a time per person and a few in all, in the chat and on the
dashboard alike (they share the count). A refused press gets a pop-up and no file."""

from __future__ import annotations

import pytest

from models import Role
from services import archive
from services.archive import ExportGate, ExportsBusy
from tests.harness import BotEnv
from views.reports import Archive, ArchiveKind, PeriodKind

MONTH = Archive(
    what=ArchiveKind.XLSX, kind=PeriodKind.MONTH, first="2026-11-01", last="2026-11-30"
).pack()


def test_one_export_per_person_and_a_few_in_all():
    gate = ExportGate(at_once=2)
    gate.take(1)
    with pytest.raises(ExportsBusy, match="previous file"):
        gate.take(1)
    with gate.slot(2), pytest.raises(ExportsBusy, match="Several files"):
        gate.take(3)
    gate.take(3)  # person 2 finished: a place is free again
    gate.give_back(1)
    gate.give_back(3)
    assert gate.busy == set()


async def test_a_second_export_of_the_same_person_is_refused_in_the_chat(bot_env):
    env: BotEnv = bot_env
    office = await env.person("Office Clerk", role=Role.OFFICE)
    me = await env.db_user(office)
    greeting = next(m for m in await office.history() if m.from_bot)
    archive.EXPORTS.take(me.id)  # an export of theirs still in hand
    try:
        await office.catch_up()
        answer = await office.callback_answer(query_id=await office.press_data(greeting, MONTH))
        assert answer.show_alert and "still being prepared" in answer.text
        await env.idle()
        await office.expect_nothing_new()
    finally:
        archive.EXPORTS.give_back(me.id)
    await office.press_data(greeting, MONTH)
    sent = await office.expect(contains="Archive")
    assert sent.document is not None
    await env.idle()  # the handler has finished: its place is given back
    assert archive.EXPORTS.busy == set()
