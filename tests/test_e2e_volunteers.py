"""Volunteers and activities end to end through the simulator: a resident joins a team and
serves an order (hours and points in /me); an activity is published, signed up to capacity
with a waitlist, attended (list, code, location), photographed and its hours booked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models import (
    Activity,
    Attachment,
    AttachmentStage,
    LedgerSource,
    MembershipStatus,
    PointsEntry,
    Reminder,
    Role,
    TeamMember,
    User,
)
from scheduler import ManualClock
from services import activities, kpi
from simulator.driver import TINY_JPEG
from tests.factories import CTX
from tests.flows import (
    PHOTOS_DONE,
    accept_order,
    asked_again,
    assign_volunteer,
    confirm_hours,
    order_through_chat,
    serve_task,
)
from tests.harness import from_menu

PLACE = (38.80, 106.60)
IN_MAY = datetime(2027, 5, 14, 2, 0, tzinfo=UTC)  # 10:00 in Taole, a third of the year gone
MID_JANUARY = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # 10:00 in Taole
LAST_EVENING = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 on 31 December in Taole


@pytest.fixture
async def fast_env(db_url, tmp_path, request):
    """The bot as in `bot_env`, but a test types faster than any person: no flood limit. The
    whole bot reads the time from one clock standing at a fixed moment (in May, unless the
    test is parametrised with another)."""
    from tests.harness import running_bot
    from tests.scheduler_harness import running_on

    clock = ManualClock(getattr(request, "param", IN_MAY))
    with running_on(clock):
        async with running_bot(db_url, tmp_path / "media", flood_limit=10_000) as env:
            env.clock = clock
            yield env


@pytest.mark.parametrize(
    ("fast_env", "year"), [(MID_JANUARY, 2027), (LAST_EVENING, 2026)], indirect=["fast_env"]
)
async def test_join_a_team_serve_an_order_and_see_hours_in_me(fast_env, year):
    env = fast_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    fang = await env.person("Wang Fang", phone=None)

    await fang.tap("🙌 Join a team")
    teams = await fang.expect(contains="Which team")
    labels = [b for row in teams.reply_keyboard for b in row]
    assert labels[0] == "Miaomiaohu Village Volunteer Squad"  # the village squad first
    await fang.tap("Health Volunteer Team")
    await fang.expect(contains="full name")
    await fang.tap("Wang Fang")
    await fang.expect(contains="share your phone")
    await fang.tap("Skip")  # no phone yet: it is needed
    await fang.expect(contains="phone number is needed")
    await fang.send_contact(own=False, phone_number="+8613111111111", contact_user_id=42)
    await fang.expect(contains="not your own number")
    await fang.send_contact(own=True)
    await fang.expect(contains="What can you do well")
    await fang.send("Nursing, first aid")
    await fang.expect(contains="Communist Party")
    await fang.tap("Yes, I am a party member")
    await fang.expect(contains="Sent!")

    card = await leader.expect(contains="wants to join")
    assert "Nursing, first aid" in card.text and "Party member: yes" in card.text
    assert fang.phone_number in card.text
    await leader.press("✅ Approve", message=card)
    assert "Approved" in (await leader.callback_answer()).text
    decided = await leader.expect_edit(card.message_id)
    assert "Approved by you" in decided.text and not decided.buttons()
    welcome = await fang.expect(contains="Welcome to Health Volunteer Team")
    assert any("👤 Me" in row for row in welcome.reply_keyboard or [])

    # a real order: the leader assigns the new volunteer, who serves it
    resident = await env.person("Grandma Li")
    number = await order_through_chat(resident)
    order_card = await leader.expect(contains=number)
    accepted = await accept_order(leader, order_card)
    await assign_volunteer(leader, accepted, "Wang Fang", slot=1)

    await serve_task(fang, hours="3", note=None)
    await confirm_hours(leader)

    await fang.send("/me")
    me = await fang.expect(contains="Hours in")
    assert f"Hours in {year}: 3 of 20 h" in me.text
    assert f"Points in {year}: 30 (all time: 30)" in me.text
    assert f"Order {number}: 3 h, +30 points" in me.text
    assert "Health Volunteer Team" in me.text
    await fang.press("📜 Certificate of hours", message=me)
    certificate = await fang.expect(contains="certificate")
    assert f"for {year}" in certificate.text
    assert certificate.document is not None
    png = await env.driver.download(certificate.document)
    assert png.startswith(b"\x89PNG")

    async with env.sessionmaker() as s:
        fang_user = await env.db_user(fang)
        member = await s.scalar(select(TeamMember).where(TeamMember.user_id == fang_user.id))
        assert member.status == MembershipStatus.ACTIVE
        assert fang_user.is_party_member and fang_user.skills == "Nursing, first aid"


async def test_the_publishing_form_answers_what_it_did_not_ask_and_old_buttons_are_refused(
    fast_env,
):
    head = await fast_env.person("Secretary Ma", role=Role.STATION_HEAD)
    await from_menu(head, "🗓 Activities")
    offer = await head.expect(contains="Organisers can publish")
    await head.press_data(offer, "p:act_new:1")  # the button as an earlier version made it
    answer = await head.callback_answer()
    assert "no longer valid" in answer.text and answer.show_alert
    await head.send_command("publish")
    await head.expect(contains="title of the activity")
    await head.send_photo()  # not a title: the step says what it wants and stays
    await head.expect(contains="Please answer with text")
    await head.send("Free clinic in the village")
    await head.expect(contains="content")


async def test_publish_sign_up_waitlist_attend_and_book_hours(fast_env):
    env = fast_env
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    li = await env.person("Li Lan")
    zhou = await env.person("Zhou Ping")
    sun = await env.person("Sun Hua")
    far_away = await env.person("Xi Jie", station="xijie")

    await from_menu(head, "🗓 Activities")
    await head.expect(contains="No activities coming up")
    offer = await head.expect(contains="Organisers can publish")
    await head.press("➕ Publish an activity", message=offer)
    await head.expect(contains="title of the activity")  # one village: no audience step
    await head.send("Free clinic in the village")
    await head.expect(contains="content")
    await head.send("Blood pressure and sugar checks")
    await head.expect(contains="Where does it take place")
    await head.send("Village committee yard")
    await head.expect(contains="send its location")
    await head.send_location(*PLACE)
    days = await head.expect(contains="Which day")
    await head.tap(days.reply_keyboard[0][1])  # tomorrow
    await head.expect(contains="What time does it start")
    await head.tap("09:00")
    await head.expect(contains="How many hours")
    for wrong in ("NaN", "13"):
        await asked_again(head, wrong, "between 0.5 and 12")
    await head.tap("2")
    await head.expect(contains="How many places")
    await head.send("2")
    await head.expect(contains="every week")
    await head.tap("Once")
    preview = await head.expect(contains="Please check the activity")
    assert "Places: 2 of 2 left" in preview.text and "Check-in by location" in preview.text
    await head.press("✅ Publish", message=preview)
    published = await head.expect(contains="Published: ")
    number = published.text.split("Published: ")[1].split(".")[0]

    notices = [await u.expect(contains="New activity") for u in (li, zhou, sun)]
    assert all("Free clinic in the village" in n.text for n in notices)
    await env.idle()
    await far_away.expect_nothing_new()  # another village is not told
    await li.press("✋ Sign up", message=notices[0])
    assert "signed up" in (await li.callback_answer()).text
    li_card = await li.expect_edit(notices[0].message_id)
    assert li_card.buttons() == ["✖ Cancel my sign-up"]
    await zhou.press("✋ Sign up", message=notices[1])
    assert "signed up" in (await zhou.callback_answer()).text
    await sun.press("✋ Sign up", message=notices[2])
    full = await sun.callback_answer()
    assert full.show_alert and "number 1 on the waitlist" in full.text

    await li.press("✖ Cancel my sign-up", message=li_card)
    assert "cancelled" in (await li.callback_answer()).text
    promoted = await sun.expect(contains="A place came free")
    assert "Free clinic in the village" in promoted.text

    # an hour before: the scheduler fires the reminder row (here by hand)
    async with env.sessionmaker() as s:
        activity = await s.scalar(select(Activity).where(Activity.number == number))
        hour = await s.scalar(
            select(Reminder).where(Reminder.activity_id == activity.id, Reminder.note == "hour")
        )
        assert await activities.fire_activity_reminder(s, CTX, hour, hour.due_at) == 3
        await s.commit()
    env.sender.poke()
    for person in (zhou, sun):
        reminder = await person.expect(contains="Starting soon")
        assert reminder.buttons() == ["✅ Check in"]
    assert "📋 Attendance" in (await head.expect(contains="Check-in code:")).buttons()
    await env.idle()
    await li.expect_nothing_new()  # she cancelled

    # the day comes: the activity has started ten minutes ago
    async with env.sessionmaker() as s:
        activity = await s.scalar(select(Activity).where(Activity.number == number))
        start = env.clock.now() - timedelta(minutes=10)
        await s.execute(
            update(Activity)
            .where(Activity.id == activity.id)
            .values(starts_at=start, ends_at=start + timedelta(hours=2))
        )
        await s.commit()

    await from_menu(head, "🗓 Activities")
    mine = await head.expect(contains="Free clinic in the village")
    await head.press("📋 Attendance", message=mine)
    sheet = await head.expect(contains="checked in")
    assert sheet.buttons()[:2] == ["☐ Zhou Ping", "☐ Sun Hua"]
    await head.press("☐ Zhou Ping", message=sheet)  # 1. ticked on the list
    sheet = await head.expect_edit(sheet.message_id)
    assert "☑ Zhou Ping" in sheet.buttons()

    await head.press("🔢 Check-in code", message=mine)
    code = (await head.expect(contains="Check-in code for")).text.split(": ")[1].split()[0]
    await sun.send("/checkin")  # 2. by the code
    await sun.expect(contains="6-digit code")
    await sun.send("000000" if code != "000000" else "111111")
    await sun.expect(contains="not valid")
    await sun.send(code)
    await sun.expect(contains="Checked in")

    await li.tap("🗓 Activities")  # 3. Li comes after all, and checks in by location
    card = await li.expect(contains="Free clinic in the village")
    await li.press("✅ Check in", message=card)
    await li.expect(contains="6-digit code")
    await li.send_location(PLACE[0] + 0.02, PLACE[1])
    await li.expect(contains="m from")
    await li.send_location(PLACE[0] + 0.0005, PLACE[1])
    await li.expect(contains="Checked in")

    await head.press("📷 Add photos", message=mine)
    await head.expect(contains="Send photos")
    await head.send_photo(TINY_JPEG)
    await head.expect(contains="Photo 1 received")
    await head.tap(PHOTOS_DONE)
    await head.expect(contains="1 photo(s) filed")

    await head.press("📋 Attendance", message=mine)
    sheet = await head.expect(contains="3 of 3 checked in")
    await head.press("✅ Finish and record hours", message=sheet)
    await head.expect(contains="planned for 2 h")
    await asked_again(head, "NaN", "between 0.5 and 24")
    await head.tap("2")
    await head.expect(contains="hours for 3 people are in the ledger")
    for person in (li, zhou, sun):
        thanks = await person.expect(contains="Thank you for taking part")
        assert "2 h and 20 points" in thanks.text

    async with env.sessionmaker() as s:
        rows = (
            await s.scalars(select(PointsEntry).where(PointsEntry.activity_id == activity.id))
        ).all()
        ids = {(await env.db_user(p)).id for p in (li, zhou, sun)}
        assert {r.user_id for r in rows} == ids
        assert {(r.source, r.hours, r.points) for r in rows} == {
            (LedgerSource.ACTIVITY, Decimal(2), Decimal(20))
        }
        photos = (
            await s.scalars(select(Attachment).where(Attachment.activity_id == activity.id))
        ).all()
        assert [p.stage for p in photos] == [AttachmentStage.ACTIVITY]


async def test_kpi_table_team_list_leaving_and_reminders_in_the_chat(fast_env):
    env = fast_env
    office = await env.person("Office Liu", role=Role.OFFICE)
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    ann = await env.person("Ann Party", role=Role.VOLUNTEER, team="health")
    bo = await env.person("Bo Party", role=Role.VOLUNTEER, team="health")
    async with env.sessionmaker() as s:
        for person in (ann, bo):
            await s.execute(
                update(User).where(User.tg_id == person.id).values(is_party_member=True)
            )
        await s.commit()

    await from_menu(office, "🎯 KPIs")
    table = await office.expect(contains="Volunteer KPIs")
    assert "Taole Town: 0/2 party members took part (0%) ⚠" in table.text
    assert "Ann Party 0 h" in table.text and "By village:" in table.text
    assert "Health Volunteer Team: 0/2 party members took part" in table.text

    # the monthly nudge (the scheduler calls it) reaches volunteers behind the pace: on a
    # day in May (in January there is none: see tests/test_kpi.py)
    async with env.sessionmaker() as s:
        assert await kpi.monthly_kpi_nudges(s, IN_MAY, env.settings.tz) >= 2
        await s.commit()
    env.sender.poke()
    nudge = await ann.expect(contains="target is 20 h")
    assert "0 h so far" in nudge.text

    await leader.send("/me")
    me = await leader.expect(contains="Hours in")
    await leader.press("👥 Health Volunteer Team", message=me)
    listing = await leader.expect(contains="members:")
    assert "Ann Party (party member): 0 h" in listing.text
    remove = await leader.expect(contains="tap their name")
    await leader.press("🚫 Remove Ann Party", message=remove)
    await leader.press("Yes, remove", message=await leader.expect(contains="Take Ann Party off"))
    assert "no longer in the team" in (await leader.callback_answer()).text
    await ann.expect(contains="no longer a member of Health Volunteer Team")

    await bo.send("/me")
    me = await bo.expect(contains="Hours in")
    await bo.press("🚪 Leave a team", message=me)
    which = await bo.expect(contains="Which team")
    await bo.press("Health Volunteer Team", message=which)
    confirm = await bo.expect_edit(which.message_id)
    await bo.press("Yes, leave the team", message=confirm)
    await bo.expect_edit(which.message_id)
    await leader.expect(contains="Bo Party has left Health Volunteer Team")
    async with env.sessionmaker() as s:
        statuses = (
            await s.scalars(
                select(TeamMember.status)
                .join(User, User.id == TeamMember.user_id)
                .where(User.tg_id.in_([ann.id, bo.id]))
            )
        ).all()
    assert statuses == [MembershipStatus.LEFT, MembershipStatus.LEFT]

    # the office reaches any team of the town from «👤 Me»
    await office.send("/me")
    me = await office.expect(contains="Hours in")
    await office.press("👥 The town's teams", message=me)
    teams = await office.expect(contains="Which team?")
    await office.press("👥 Health Volunteer Team", message=teams)
    assert "Health Volunteer Team · members: 1" in (await office.expect(contains="members")).text
