"""Routing: who receives a new order, who should accept it now, and handing it to them.

站所接单 first (`receive`): the category's platform's lead units receive the order (units.py).
On a `manual` platform it waits with them (handler "unit") until a dispatcher picks the
team (desk.py); on `auto`, or with no dispatcher appointed, it goes out at once. A
«其他需求» order (no category) goes to the institute office for triage.

Going out, the order of candidates is the plan's: the suggested team (the category's), then
the resident's station squad, then the town institute's office. A candidate with nobody able
to act (no active, reachable leader) is skipped, and so is one that already declined this
order or handed it on; every skip is written into the routing event's note, so the audit
trail says why an order landed where it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DispatchMode,
    Order,
    OrderEvent,
    OrderStatus,
    ServiceCategory,
    Team,
    TeamKind,
    User,
    utcnow,
)
from services import outbox
from services.errors import DomainError
from services.i18n import N_
from services.orders import units
from services.orders.notices import tell_about
from services.orders.state import transition
from services.outbox import NoticeKind
from services.people import (
    admins,
    office_staff,
    station_heads,
    station_squad,
    team_leaders,
    unit_dispatchers,
)

HandlerKind = Literal["team", "squad", "office", "unit"]
OFFICE_KEY = "office"


def handler_kind(team: Team) -> HandlerKind:
    """How an order held by `team` is held: by a village squad or a specialist team."""
    return "squad" if team.kind == TeamKind.SQUAD else "team"


async def leaders_taking(session: AsyncSession, team: Team) -> list[User]:
    """The active leaders of the team an order is handed to; refuses when it has none."""
    leaders = await team_leaders(session, team.id)
    if not leaders:
        raise DomainError(N_("That team has no active leader."))
    return leaders


async def holder_name(session: AsyncSession, order: Order) -> str:
    """Who holds the order now, for the trail: its team, else the institute office."""
    team = await session.get(Team, order.team_id) if order.team_id else None
    return team.name_zh if team else "the office"


@dataclass(frozen=True)
class Candidate:
    """Someone who could accept the order: a team, a station squad, or the town office."""

    kind: HandlerKind
    team_id: int | None  # None for the office
    users: tuple[User, ...]  # who gets the order card
    reason: str  # English, for the audit trail; includes why earlier candidates were skipped

    @property
    def key(self) -> str:
        return OFFICE_KEY if self.team_id is None else f"team:{self.team_id}"


# Events that name the order's new holder; a transfer or re-dispatch also lets the last go.
_HANDED_ON = ("transferred", "redispatched")
_HANDING = ("routed", "dispatched", "declined", *_HANDED_ON)


async def handled_before(session: AsyncSession, order_id: int) -> set[str]:
    """Keys of the candidates that declined this order or handed it on (transfer).

    Walks the events in order: a "routed"/"transferred" event names the current handler
    (team_id, None = office); a "declined" event names who declined; a transfer also
    means the previous handler let it go."""
    events = await session.execute(
        select(OrderEvent.kind, OrderEvent.team_id)
        .where(
            OrderEvent.order_id == order_id,
            OrderEvent.kind.in_(_HANDING),
        )
        .order_by(OrderEvent.id)
    )
    done: set[str] = set()
    current: str | None = None
    for kind, team_id in events:
        key = OFFICE_KEY if team_id is None else f"team:{team_id}"
        if kind == "declined":
            done.add(key)
        else:
            if kind in _HANDED_ON and current is not None:
                done.add(current)
            current = key
    return done


async def _evaluate(session: AsyncSession, order: Order) -> tuple[list[Candidate], list[str]]:
    """All candidates still eligible, in order, and the notes on the ones skipped."""
    skipped = await handled_before(session, order.id)
    found: list[Candidate] = []
    notes: list[str] = []
    seen: set[str] = set()

    async def consider(kind: HandlerKind, label: str, team: Team | None) -> None:
        if team is None:
            notes.append(f"{label}: none")
            return
        key = f"team:{team.id}"
        if key in seen:
            return  # the category's team may itself be the squad: offer it once
        seen.add(key)
        if key in skipped:
            notes.append(f"{label} {team.name_zh} declined or passed it on")
            return
        leaders = await team_leaders(session, team.id)
        if not leaders:
            notes.append(f"{label} {team.name_zh} has no active leader")
            return
        reason = "; ".join([*notes, f"{label} {team.name_zh}"])
        found.append(Candidate(kind, team.id, tuple(leaders), reason))

    category = await session.get(ServiceCategory, order.category_id) if order.category_id else None
    team = await session.get(Team, category.team_id) if category else None
    if team is not None and not team.active:
        team = None
    if category is not None and team is not None:
        received = await units.reception(session, category)
        if received is not None and received.suggested is None:
            notes.append(f"team {team.name_zh} is not on the platform")
            team = None
    team_kind = handler_kind(team) if team else "team"
    await consider(team_kind, "team", team)
    await consider("squad", "station squad", await station_squad(session, order.station_id))

    if OFFICE_KEY in skipped:
        notes.append("the institute office declined or passed it on")
    else:
        staff = await office_staff(session, order.town_id)
        if staff:
            reason = "; ".join([*notes, "the institute office"])
            found.append(Candidate("office", None, tuple(staff), reason))
        else:
            notes.append("the institute office has no active staff")
    return found, notes


async def candidates(session: AsyncSession, order: Order) -> list[Candidate]:
    """Who could take the order now, best first (declined ones left out)."""
    found, _notes = await _evaluate(session, order)
    return found


async def route(
    session: AsyncSession, order: Order, actor: User | None, reason: str
) -> Candidate | None:
    """Hand the order to the first candidate: status routed, an event, the order cards.

    Works from `new` or `declined`. When nobody at all can take it, the order goes back to
    `new`, flagged escalated, handled by the office, and the office, admins and station
    heads are told: an order is never dropped. Flushes nothing itself; the caller commits.
    """
    first_routing = order.routed_at is None
    found, notes = await _evaluate(session, order)
    if not found:
        await _escalate_nobody(session, order, actor, reason, notes)
        return None
    chosen = found[0]
    note = f"{reason}: {chosen.reason}"
    await hand_over(session, order, actor, chosen.users, chosen.kind, chosen.team_id, note=note)
    if first_routing:
        await _inform_heads(session, order, skip={u.id for u in chosen.users}, escalated=False)
    return chosen


async def receive(session: AsyncSession, order: Order, actor: User | None) -> None:
    """站所接单: a new order (or one just triaged) is received by its lead units, then waits
    for their dispatcher (manual) or goes out to the suggested team (auto). With no lead
    units it is simply routed; without a category it goes to the office for triage.
    Flushes nothing itself; the caller commits."""
    category = await session.get(ServiceCategory, order.category_id) if order.category_id else None
    if category is None:
        await _to_triage(session, order, actor)
        return
    received = await units.reception(session, category)
    if received is None:
        await route(session, order, actor, "new order")
        return
    dispatchers = await unit_dispatchers(session, [u.id for u in received.lead_units])
    note = received.note()
    platform_id = received.platform.id if received.platform else None
    if received.mode == DispatchMode.MANUAL and dispatchers:
        await to_unit(
            session, order, actor, dispatchers, kind="received", note=note, platform_id=platform_id
        )
        await _inform_heads(session, order, skip={u.id for u in dispatchers}, escalated=False)
        return
    if received.mode == DispatchMode.MANUAL:
        note += "; no dispatcher appointed, sent out at once"
    await _received(session, order, actor, note, platform_id=platform_id)
    await route(session, order, actor, "new order")


async def _received(
    session: AsyncSession, order: Order, actor: User | None, note: str, **values: object
) -> None:
    """The order is received (it stays new): who receives it is in `values`."""
    await transition(
        session, order, OrderStatus.NEW, actor, kind="received", note=note, values=values
    )


async def to_unit(
    session: AsyncSession,
    order: Order,
    actor: User | None,
    dispatchers: list[User],
    *,
    kind: str,
    note: str,
    escalated: bool = False,
    **values: object,
) -> None:
    """The order waits with its lead unit: status new, held by the unit's dispatchers, who
    get the dispatch card (派单). `sla.order_routed` starts the unit's clock."""
    await transition(
        session,
        order,
        OrderStatus.NEW,
        actor,
        kind=kind,
        note=note,
        values={"team_id": None, "handler_kind": "unit", **values},
    )
    await tell_about(
        session,
        dispatchers,
        outbox.DISPATCH_CARD,
        order,
        f"dispatch:{order.version}",
        urgent=True,
        version=order.version,
        escalated=escalated,
    )


async def to_office(session: AsyncSession, order: Order, actor: User | None, reason: str) -> None:
    """The lead unit did not dispatch in time: the institute office gets the order card (or,
    with no office staff, it is left escalated for the admins)."""
    staff = await office_staff(session, order.town_id)
    if not staff:
        await _escalate_nobody(session, order, actor, reason, ["the institute office has no staff"])
        return
    note = f"{reason}: the institute office"
    await hand_over(session, order, actor, staff, "office", None, note=note)
    await _inform_heads(session, order, skip={u.id for u in staff}, escalated=True)


async def _to_triage(session: AsyncSession, order: Order, actor: User | None) -> None:
    """«其他需求»: the institute office reads it and picks a category (or answers)."""
    staff = await office_staff(session, order.town_id) or await admins(session)
    note = "a need in the resident's own words: to the institute office for triage"
    await _received(
        session, order, actor, note, team_id=None, handler_kind="office", platform_id=None
    )
    await tell_about(
        session,
        staff,
        outbox.TRIAGE_CARD,
        order,
        f"triage:{order.version}",
        urgent=True,
        version=order.version,
    )
    await _inform_heads(session, order, skip={u.id for u in staff}, escalated=False)


async def hand_over(
    session: AsyncSession,
    order: Order,
    actor: User | None,
    users: tuple[User, ...] | list[User],
    handler_kind: str,
    team_id: int | None,
    *,
    note: str,
    kind: str = "routed",
) -> None:
    """The order is routed to `users` (a team's leaders, a squad's heads, the office), who
    get its card."""
    await transition(
        session,
        order,
        OrderStatus.ROUTED,
        actor,
        kind=kind,
        note=note,
        values={"team_id": team_id, "handler_kind": handler_kind, "routed_at": utcnow()},
    )
    await send_cards(session, order, users, handler_kind)


async def send_cards(
    session: AsyncSession, order: Order, users: tuple[User, ...] | list[User], kind: str
) -> None:
    # The version makes the key unique per routing attempt: a re-route sends fresh cards,
    # a retried transaction sends nothing twice. The card's buttons should carry `version`.
    await tell_about(
        session,
        users,
        NoticeKind.ORDER_CARD,
        order,
        f"card:{order.version}",
        urgent=True,
        version=order.version,
        handler_kind=kind,
        team_id=order.team_id,
    )


async def _inform_heads(
    session: AsyncSession, order: Order, *, skip: set[int], escalated: bool
) -> None:
    heads = [h for h in await station_heads(session, order.station_id) if h.id not in skip]
    tag = f"escalated:{order.version}" if escalated else "info"
    await tell_about(session, heads, NoticeKind.ORDER_INFO, order, tag, escalated=escalated)


async def _escalate_nobody(
    session: AsyncSession,
    order: Order,
    actor: User | None,
    reason: str,
    notes: list[str],
) -> None:
    now = utcnow()
    await transition(
        session,
        order,
        OrderStatus.NEW,
        actor,
        kind="escalated",
        note=f"{reason}: nobody can take it ({'; '.join(notes)}); left with the office",
        values={
            "team_id": None,
            "handler_kind": "office",
            "escalated": True,
            "escalated_at": now,
            "routed_at": order.routed_at or now,
        },
    )
    # The office and admins can hand it to a team by transfer; the station head should know.
    people = [*await office_staff(session, order.town_id), *await admins(session)]
    await tell_about(
        session,
        people,
        NoticeKind.ORDER_INFO,
        order,
        f"nobody:{order.version}",
        urgent=True,
        escalated=True,
    )
    await _inform_heads(session, order, skip={u.id for u in people}, escalated=True)
