"""Every button (each CallbackData class of views/, each action of the enum-valued ones) and
every staff command, pressed or sent by: the rightful people, a second leader of the same
team, the station head of the order's own village, the office of this town and of another
town, a stranger, and the rightful leader in a group chat.

Permitted means the press took effect: the database changed, or (for a button that only
opens a step or a list) something was shown. Refused means a pop-up, no message, no edit,
and no change in the database. A new CallbackData class without a row here fails the test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from aiogram.filters.callback_data import CallbackData

import views
from models import (
    MembershipStatus,
    Order,
    Role,
    Slot,
)
from simulator.driver import ChatSession, SimUser
from tests.harness import running_bot
from tests.matrix_world import World, make_world, snapshot
from views.activities import Act, ActivityAction, Attend, NewActivity, PublishChoice
from views.broadcasts import BroadcastAction, NoticeAction
from views.enrol import EnrolDecision, Verdict
from views.me import LeaveTeam, MeItem, MeMenu, RemoveMember, TeamRoster
from views.menu import Lang
from views.orders import (
    AssignVolunteer,
    DeclineReason,
    DeclineWhy,
    OrderAction,
    PickSlot,
    RateOrder,
    RosterDone,
    TransferTo,
)
from views.privacy import Forget
from views.reports import Archive, ArchiveKind, OpenDashboard, PeriodKind, ReportFor, Scorecard
from views.staff import AppointAt, AppointByLink, AppointByPick, AppointRole, AppointUser

ACTORS = [
    "leader",
    "leader2",
    "volunteer",
    "owner",
    "head_own",
    "office",
    "office_other",
    "stranger",
    "group",
]
LEADERS = {"leader", "leader2"}
TEAM_STAFF = LEADERS | {"office"}
REPORTERS = {"head_own", "office", "office_other"}  # each for their own town or village
# who may view an order (its history, its voice note): the resident, the team, the office,
# the station head of the resident's village
VIEWERS = TEAM_STAFF | {"owner", "head_own"}
PRIVATE = set(ACTORS) - {"group"}


Make = Callable[[World], Awaitable[CallbackData]]


def _order(state: str, build: Callable[[Order], CallbackData]) -> Make:
    async def make(w: World) -> CallbackData:
        return build(await w.order(state))

    return make


def _fixed(data: CallbackData) -> Make:
    async def make(w: World) -> CallbackData:
        return data

    return make


def _o(action: str, state: str) -> Make:
    return _order(state, lambda o: OrderAction(action=action, order_id=o.id, version=o.version))


@dataclass(frozen=True)
class Row:
    make: Make
    may: frozenset[str]
    shows: bool = False  # permitted = something shown (the button opens a step or a list)
    quiet: bool = False  # permitted = no pop-up only (it may have nothing to show)


def row(make: Make, may: set[str], *, shows: bool = False, quiet: bool = False) -> Row:
    return Row(make, frozenset(may), shows, quiet)


TODAY = date(2026, 11, 2)  # a fixed period for the report buttons
MONTHLY, FIRST, LAST = PeriodKind.MONTH, date(2026, 11, 1), date(2026, 11, 30)


def _rows() -> dict[str, Row]:
    appoint = {"role": Role.VOLUNTEER}

    async def at(w: World) -> CallbackData:
        return AppointAt(**appoint, team_id=w.health.id)

    async def by_link(w: World) -> CallbackData:
        return AppointByLink(**appoint, team_id=w.health.id)

    async def by_pick(w: World) -> CallbackData:
        return AppointByPick(**appoint, team_id=w.health.id)

    async def appoint_user(w: World) -> CallbackData:
        target = await w.throwaway("Appointee")
        return AppointUser(**appoint, team_id=w.health.id, user_id=target.id)

    async def remove(w: World) -> CallbackData:
        return RemoveMember(member_id=await w.member())

    async def remove_yes(w: World) -> CallbackData:
        return RemoveMember(member_id=await w.member(), sure=True)

    async def roster(w: World) -> CallbackData:
        return TeamRoster(team_id=w.health.id)

    async def leave_team(w: World) -> CallbackData:
        return LeaveTeam(team_id=await w.volunteer_in(w.law))

    async def leave_yes(w: World) -> CallbackData:
        return LeaveTeam(team_id=await w.volunteer_in(w.law), sure=True)

    def enrol(verdict: Verdict) -> Make:
        async def make(w: World) -> CallbackData:
            member = await w.member(MembershipStatus.PENDING)
            return EnrolDecision(action=verdict, member_id=member)

        return make

    def activity(act: Act, *, signed_up: bool = False) -> Make:
        async def make(w: World) -> CallbackData:
            return ActivityAction(action=act, activity_id=await w.activity(signed_up=signed_up))

        return make

    async def attend(w: World) -> CallbackData:  # attendance opens an hour before the start
        activity_id = await w.activity(signed_up=True, starts_in=timedelta(minutes=30))
        return Attend(activity_id=activity_id, user_id=(await w.user("volunteer")).id)

    def notice(action: NoticeAction, by: str) -> Make:
        async def make(w: World) -> CallbackData:
            return BroadcastAction(action=action, broadcast_id=await w.notice(by=by))

        return make

    from views.broadcasts import (
        AudienceKind,
        NoticesItem,
        NoticesMenu,
        PickAudience,
        PickDay,
        PickRepeat,
        PickTeam,
        PickTime,
        PickWhen,
        PreviewChoice,
        Repeat,
        ToggleVillage,
        ToggleWeekday,
        VillagesChosen,
        WeekdaysChosen,
        When,
    )
    from views.dispatch import DispatchTo, ReplyToResident, TriageArea, TriageTo
    from views.menu import LargePrint
    from views.order_form import ConfirmOrder, DropOrder, EditOrder, EditPart, FormPart
    from views.people import (
        PersonBooking,
        PersonErase,
        PersonGroups,
        PersonGroupSet,
        PersonLargePrint,
        PersonPicked,
    )
    from views.reports import UnitScorecardFor
    from views.unit_reports import UnitsNow

    def person(build: Callable[[int], CallbackData], who: str = "stranger") -> Make:
        async def make(w: World) -> CallbackData:
            return build((await w.user(who)).id)

        return make

    from views.dispatch import ReplyAndClose
    from views.heard import DropNeed, SendNeed
    from views.my_orders import CancelNot, CancelSure, OrderAgain
    from views.unit_queue import Redispatch, RedispatchTo

    none: set[str] = set()
    CARD, OFFICES = {"office", "head_own"}, {"office", "office_other"}
    rows = {
        # «My orders»: cancel asks «are you sure?» of those who may cancel only
        "mcy": row(_order("routed", lambda o: CancelSure(order_id=o.id)), {"owner", "office"}),
        "mcn": row(_order("routed", lambda o: CancelNot(order_id=o.id)), VIEWERS, shows=True),
        "mra": row(_order("done", lambda o: OrderAgain(order_id=o.id)), {"owner"}, shows=True),
        "nds": row(_fixed(SendNeed(token="x")), none),  # the heard need's own token
        "ndd": row(_fixed(DropNeed(token="x")), none),
        # a unit's queue and the desk: a routed order is past them for everyone here
        "rdp": row(_order("routed", lambda o: Redispatch(order_id=o.id)), none),
        "rdt": row(_order("routed", lambda o: RedispatchTo(order_id=o.id, team_id=1)), none),
        "trx": row(_order("routed", lambda o: ReplyAndClose(order_id=o.id)), none),
        # a resident's card: the office of their town, the head of their village
        "pp": row(person(lambda u: PersonPicked(user_id=u)), CARD, shows=True),
        "ppl": row(person(lambda u: PersonLargePrint(user_id=u, on=True)), CARD, shows=True),
        "ppg": row(person(lambda u: PersonGroups(user_id=u)), CARD, shows=True),
        "ppgs": row(person(lambda u: PersonGroupSet(user_id=u, group_id=1)), CARD, shows=True),
        "ppb": row(
            person(lambda u: PersonBooking(user_id=u, bonus=True), "volunteer"),
            {"office"},
            shows=True,
        ),
        # erasing: only a resident without Telegram (tests/test_e2e_people.py), never
        # someone who uses the bot, whoever presses it
        "ppe": row(person(lambda u: PersonErase(user_id=u, sure=True)), none),
        "lp": row(_fixed(LargePrint(on=True)), PRIVATE, shows=True),
        # the unit scorecard (站所考核): each town's office (and dispatchers), not a village
        "rpu": row(
            _fixed(UnitScorecardFor(kind=MONTHLY, first=FIRST, last=LAST)), OFFICES, shows=True
        ),
        "rpun": row(_fixed(UnitsNow(kind=MONTHLY)), OFFICES, shows=True),
        # orders: the team's two leaders, the sent volunteer, the resident, the office
        "o:accept": row(_o("accept", "routed"), LEADERS),
        "o:decline": row(_o("decline", "routed"), LEADERS, shows=True),
        "o:transfer": row(_o("transfer", "routed"), TEAM_STAFF, shows=True),
        "o:assign": row(_o("assign", "accepted"), LEADERS, shows=True),
        "o:start": row(_o("start", "assigned"), LEADERS | {"volunteer"}),  # or the leader
        "o:done": row(_o("done", "in_progress"), LEADERS | {"volunteer"}, shows=True),
        "o:withdraw": row(_o("withdraw", "assigned"), {"volunteer"}),
        "o:confirm_hours": row(_o("confirm_hours", "done"), TEAM_STAFF),
        "o:cancel": row(_o("cancel", "routed"), {"owner", "office"}, shows=True),  # «sure?»
        "o:history": row(_o("history", "routed"), VIEWERS, shows=True),
        "o:voice": row(_o("voice", "routed"), VIEWERS, quiet=True),
        "r": row(_order("done", lambda o: RateOrder(order_id=o.id, score=5)), {"owner"}),
        "lxf": row(
            _order("routed", lambda o: TransferTo(order_id=o.id, team_id=_LAW[0])),
            TEAM_STAFF,
            shows=True,
        ),
        # steps of a conversation: outside it, nobody
        "ldr": row(
            _order("routed", lambda o: DeclineReason(order_id=o.id, why=next(iter(DeclineWhy)))),
            none,
        ),
        "lav": row(_order("accepted", lambda o: AssignVolunteer(order_id=o.id, user_id=1)), none),
        "lan": row(_order("accepted", lambda o: RosterDone(order_id=o.id)), none),
        "lsl": row(
            _order(
                "accepted",
                lambda o: PickSlot(order_id=o.id, day=TODAY, slot=Slot.MORNING),
            ),
            none,
        ),
        # the office's desk: a routed order is past triage and dispatch for everyone
        "dp": row(_order("routed", lambda o: DispatchTo(order_id=o.id, team_id=_LAW[0])), none),
        "tra": row(_order("routed", lambda o: TriageArea(order_id=o.id, area_id=0)), none),
        "trc": row(_order("routed", lambda o: TriageTo(order_id=o.id, category_id=1)), none),
        "trr": row(_order("routed", lambda o: ReplyToResident(order_id=o.id)), none),
        # teams
        "en:approve": row(enrol(Verdict.APPROVE), TEAM_STAFF),
        "en:reject": row(enrol(Verdict.REJECT), TEAM_STAFF),
        "mrm:ask": row(remove, TEAM_STAFF, shows=True),
        "mrm:sure": row(remove_yes, TEAM_STAFF),
        "met": row(roster, TEAM_STAFF, shows=True),
        "mem:teams": row(
            _fixed(MeMenu(item=MeItem.TOWN_TEAMS)), {"office", "office_other"}, shows=True
        ),
        "mem:cert": row(
            _fixed(MeMenu(item=MeItem.CERTIFICATE)),
            {"volunteer", "leader", "leader2", "head_own"},
            shows=True,
        ),
        "mem:leave": row(_fixed(MeMenu(item=MeItem.LEAVE)), {"volunteer"}, shows=True),
        "mlt:ask": row(leave_team, {"volunteer"}, shows=True),
        "mlt:sure": row(leave_yes, {"volunteer"}),
        # appointing: a leader adds volunteers to their team, the office to any of the town's
        "apr": row(_fixed(AppointRole(role=Role.VOLUNTEER)), LEADERS | REPORTERS, shows=True),
        "apw": row(at, TEAM_STAFF, shows=True),
        "apl": row(by_link, TEAM_STAFF),
        "app": row(by_pick, TEAM_STAFF, shows=True),
        "apu": row(appoint_user, TEAM_STAFF),
        # activities of the health team
        "ac:signup": row(activity(Act.SIGNUP), LEADERS | {"volunteer"}),
        "ac:cancel": row(activity(Act.CANCEL, signed_up=True), {"volunteer"}),
        "ac:checkin": row(activity(Act.CHECKIN), PRIVATE, shows=True),
        "ac:attendance": row(activity(Act.ATTENDANCE), TEAM_STAFF, shows=True),
        "ac:code": row(activity(Act.CODE), TEAM_STAFF, shows=True),
        "ac:photos": row(activity(Act.PHOTOS), TEAM_STAFF, shows=True),
        "ac:finish": row(activity(Act.FINISH), TEAM_STAFF, shows=True),
        "ac:calloff": row(activity(Act.CALL_OFF), TEAM_STAFF, shows=True),
        "ac:calloff_yes": row(activity(Act.CALL_OFF_YES), TEAM_STAFF),
        "at": row(attend, TEAM_STAFF),
        "acn": row(_fixed(NewActivity()), LEADERS | REPORTERS, shows=True),
        "acp": row(_fixed(PublishChoice(publish=True)), none),
        # notices: the office approves a station head's; the author or the office cancels
        "bc:approve": row(notice(NoticeAction.APPROVE, "head_own"), {"office"}),
        "bc:reject": row(notice(NoticeAction.REJECT, "head_own"), {"office"}, shows=True),
        "bc:cancel": row(notice(NoticeAction.CANCEL, "office"), {"office"}),
        "ntm:new": row(_fixed(NoticesMenu(item=NoticesItem.NEW)), REPORTERS, shows=True),
        "ntm:scheduled": row(
            _fixed(NoticesMenu(item=NoticesItem.SCHEDULED)), REPORTERS, shows=True
        ),
        "ntm:mine": row(_fixed(NoticesMenu(item=NoticesItem.MINE)), REPORTERS, shows=True),
        "nta": row(_fixed(PickAudience(kind=next(iter(AudienceKind)))), none),
        "ntv": row(_fixed(ToggleVillage(station_id=1)), none),
        "ntvd": row(_fixed(VillagesChosen()), none),
        "ntt": row(_fixed(PickTeam(team_id=1)), none),
        "ntw": row(_fixed(PickWhen(mode=next(iter(When)))), none),
        "ntd": row(_fixed(PickDay(day=TODAY)), none),
        "ntr": row(_fixed(PickRepeat(kind=next(iter(Repeat)))), none),
        "ntwd": row(_fixed(ToggleWeekday(weekday=1)), none),
        "ntwdd": row(_fixed(WeekdaysChosen()), none),
        "ntc": row(_fixed(PickTime(hour=8, minute=0)), none),
        "ntp:send": row(_fixed(PreviewChoice(send=True)), none),
        "ntp:cancel": row(_fixed(PreviewChoice(send=False)), none),
        # the order form's own buttons carry the form's token: outside it, nobody
        "ofc": row(_fixed(ConfirmOrder(token="x")), none),
        "ofe": row(_fixed(EditOrder(token="x")), none),
        "ofd": row(_fixed(DropOrder(token="x")), none),
        "ofp": row(_fixed(EditPart(part=next(iter(FormPart)), token="x")), none),
        # reports: the office of each town for their town, a station head for the village
        "rpp": row(_fixed(ReportFor(kind=PeriodKind.MONTH)), REPORTERS, shows=True),
        "rpd": row(_fixed(OpenDashboard()), REPORTERS),
        "rps": row(
            _fixed(Scorecard(kind=PeriodKind.MONTH, first=FIRST, last=LAST)),
            REPORTERS,
            shows=True,
        ),
        "rpx": row(
            _fixed(Archive(what=ArchiveKind.XLSX, kind=PeriodKind.MONTH, first=FIRST, last=LAST)),
            REPORTERS,
            shows=True,
        ),
        # anyone's own settings, in their private chat
        "lang": row(_fixed(Lang(code="en")), PRIVATE, shows=True),
        "forget": row(_fixed(Forget(delete=False)), PRIVATE, shows=True),
    }
    return rows


_LAW: list[int] = [0]  # the law team's id, once the world exists

# the enum-valued first field of these classes gets one row per value
SPLIT = {"o", "ac", "bc", "en", "mem", "ntm"}
# these carry a yes/no flag (are you sure, or send): a row for each answer
FLAGGED = {"mlt": ("ask", "sure"), "mrm": ("ask", "sure"), "ntp": ("send", "cancel")}
ORDER_ACTIONS = {
    "accept",
    "decline",
    "transfer",
    "assign",
    "start",
    "done",
    "withdraw",
    "confirm_hours",
    "cancel",
    "history",
    "voice",
}


def _callback_classes() -> dict[str, type[CallbackData]]:
    found: dict[str, type[CallbackData]] = {}
    for info in pkgutil.iter_modules(views.__path__):
        module = importlib.import_module(f"views.{info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, CallbackData)
                and value is not CallbackData
                and value.__module__ == module.__name__
            ):
                found[value.__prefix__] = value
    return found


def test_every_button_has_a_row():
    rows = _rows()
    wanted: set[str] = set()
    for prefix, cls in _callback_classes().items():
        if prefix in FLAGGED:
            wanted |= {f"{prefix}:{v}" for v in FLAGGED[prefix]}
            continue
        if prefix not in SPLIT:
            wanted.add(prefix)
            continue
        first = next(iter(cls.model_fields.values())).annotation
        values = ORDER_ACTIONS if prefix == "o" else {v.value for v in first}  # type: ignore[union-attr]
        wanted |= {f"{prefix}:{v}" for v in values}
    assert wanted - set(rows) == set(), "buttons without a row in the matrix"
    assert set(rows) - wanted == set(), "rows of buttons that no longer exist"


# Pressing ---------------------------------------------------------------------------------


async def _press(w: World, actor: str, data: str) -> tuple[bool, bool, bool]:
    """(refused by a pop-up, something shown or edited, the database changed)."""
    chat = w.chats[actor]
    await w.env.idle()
    await chat.catch_up()
    history = await chat.history()
    before_view = [(m.message_id, m.text, m.inline_buttons) for m in history]
    before = await snapshot(w.env)
    anchor = next(m for m in reversed(history) if m.from_bot)
    answer = await chat.callback_answer(query_id=await chat.press_data(anchor, data))
    await w.env.idle()
    after_view = [(m.message_id, m.text, m.inline_buttons) for m in await chat.history()]
    shown = after_view != before_view
    changed = await snapshot(w.env) != before
    if not answer.show_alert and actor != "group":
        await chat.send("/cancel")  # leave whatever step it opened
        await chat.expect(contains="Stopped")
    return answer.show_alert, shown, changed


@pytest.fixture
async def roomy_bot(db_url, tmp_path):
    """The bot with the flood limit out of the way: this test taps fast on purpose."""
    async with running_bot(db_url, tmp_path / "media", flood_limit=100_000) as env:
        yield env


async def test_every_button_by_every_actor(roomy_bot):
    w = await make_world(roomy_bot)
    _LAW[0] = w.law.id
    wrong: list[tuple[str, str, str]] = []
    for key, spec in _rows().items():
        data = await spec.make(w)
        for actor in ACTORS:
            refused, shown, changed = await _press(w, actor, data.pack())
            if actor not in spec.may:
                if not refused or shown or changed:
                    wrong.append((key, actor, f"not refused: {refused=} {shown=} {changed=}"))
            elif refused or not (spec.quiet or (shown if spec.shows else changed)):
                wrong.append((key, actor, f"no effect: {refused=} {shown=} {changed=}"))
            if changed:
                data = await spec.make(w)  # a fresh target for the next actor
    assert not wrong, "\n".join(map(str, wrong))


# text: (the refusal, who may) — a staff command or menu text sent by every actor
COMMANDS = {
    "/dashboard": ("for office staff and station heads", REPORTERS),
    "/reports": ("for office staff and station heads", REPORTERS),
    "/kpi": ("Only the office and station heads", REPORTERS),
    "/publish": ("Only team leaders and station heads", LEADERS | REPORTERS),
    # a station head leads the village squad: its orders are theirs
    "📥 Team orders": ("Only team leaders", TEAM_STAFF | {"head_own", "office_other"}),
    "🏘 Village orders": ("Only station heads", REPORTERS),
    "📝 Order for a resident": ("Only station staff", REPORTERS),
    "👥 Appoint staff": ("Only the office", LEADERS | REPORTERS),
}


async def test_every_staff_command_by_every_actor(roomy_bot):
    w = await make_world(roomy_bot)
    wrong: list[tuple[str, str, str]] = []
    for text, (refusal, may) in COMMANDS.items():
        for actor in ACTORS:
            chat = w.chats[actor]
            await w.env.idle()
            await chat.catch_up()
            before, seen = await snapshot(w.env), len(await chat.history())
            await chat.send(text)
            await w.env.idle()
            changed = await snapshot(w.env) != before
            said = await _said_since(chat, seen)
            refused = any(refusal in t for t in said)
            if actor == "group":  # told once when the bot came in; nothing since
                if said or changed:
                    wrong.append((text, actor, f"answered in the group: {said}"))
            elif actor in may and (refused or not said):
                wrong.append((text, actor, f"refused: {said[:1]}"))
            elif actor not in may and (not refused or changed):
                wrong.append((text, actor, f"not refused: {said[:1]} {changed=}"))
            if actor != "group":
                await chat.send("/cancel")
                await chat.expect(contains="Stopped")
    assert not wrong, "\n".join(map(str, wrong))


async def _said_since(chat: ChatSession | SimUser, seen: int) -> list[str]:
    """The bot's messages in the chat after the first `seen` messages of its history."""
    return [m.text or "" for m in (await chat.history())[seen:] if m.from_bot]
