"""The people a station head or the office looks after: find one, switch large print on for
them, mark their priority group (留守老人, 困境儿童, 残疾人 …, which earns volunteers the
priority-group bonus), and — the office only — book an hours correction or a commendation
bonus. Every function checks the scope first: a head reaches the people of their own
villages, the office those of its town."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LedgerSource, PointsEntry, PriorityGroup, Region, User
from services import points, privacy
from services.errors import DomainError, NotAllowed, NotFound
from services.hours import CENT, MAX_HOURS, parse_hours
from services.i18n import N_
from services.people import Roles, roles_of
from services.uow import unit

FOUND_MAX = 8
QUERY_MAX = 32
BONUS_MAX = Decimal(1000)
NOT_YOURS = N_("Only the station head of the person's village or the office can do this.")


@dataclass(frozen=True)
class Person:
    user: User
    station: Region | None
    group: PriorityGroup | None


async def _covers(session: AsyncSession, roles: Roles, user: User) -> bool:
    if roles.admin:
        return True
    if user.station_id is not None and user.station_id in roles.head_of_stations:
        return True
    # The office: the people of its town, and the volunteers of its town's teams.
    return bool(roles.office_towns and await points.towns_of(session, user) & roles.office_towns)


def check_asker(roles: Roles) -> None:
    """Only station heads and the office look after people."""
    if not (roles.is_office or roles.head_of_stations):
        raise NotAllowed(NOT_YOURS)


async def find(session: AsyncSession, roles: Roles, text: str) -> list[User]:
    """People in the asker's villages whose name or phone contains `text`."""
    check_asker(roles)
    words = text.strip()
    if not words or len(words) > QUERY_MAX:
        raise DomainError(N_("Write part of the person's name or phone number."))
    pattern = f"%{words}%"
    stmt = select(User).where(
        User.registered.is_(True), or_(User.name.like(pattern), User.phone.like(pattern))
    )
    if not roles.admin:
        stmt = stmt.where(
            or_(points.in_towns(roles.office_towns), User.station_id.in_(roles.head_of_stations))
        )
    rows = await session.scalars(stmt.order_by(User.name, User.id).limit(FOUND_MAX))
    return list(rows.all())


async def person(session: AsyncSession, roles: Roles, user_id: int) -> Person:
    """The person's card, if the asker looks after them."""
    user = await session.get(User, user_id)
    if user is None or not user.registered:
        raise NotFound(N_("This person does not exist."))
    if not await _covers(session, roles, user):
        raise NotAllowed(NOT_YOURS)
    station = await session.get(Region, user.station_id) if user.station_id else None
    group = (
        await session.get(PriorityGroup, user.priority_group_id) if user.priority_group_id else None
    )
    return Person(user, station, group)


async def groups(session: AsyncSession, roles: Roles, user_id: int) -> list[PriorityGroup]:
    """The priority groups of the person's town, to pick from."""
    who = await person(session, roles, user_id)
    rows = await session.scalars(
        select(PriorityGroup)
        .where(PriorityGroup.town_id == who.user.town_id, PriorityGroup.active.is_(True))
        .order_by(PriorityGroup.id)
    )
    return list(rows.all())


async def set_large_print(session: AsyncSession, roles: Roles, user_id: int, on: bool) -> Person:
    async with unit(session):
        who = await person(session, roles, user_id)
        who.user.large_print = on
    return who


async def set_group(
    session: AsyncSession, roles: Roles, user_id: int, group_id: int | None
) -> Person:
    """Mark (or, with None, unmark) the person's priority group."""
    async with unit(session):
        who = await person(session, roles, user_id)
        if group_id is not None and group_id not in {
            g.id for g in await groups(session, roles, user_id)
        }:
            raise NotFound(N_("This button is no longer valid."))
        who.user.priority_group_id = group_id
    return await person(session, roles, user_id)


async def check_booking(session: AsyncSession, roles: Roles, user_id: int) -> Person:
    """Hours corrections and bonuses are the office's, for people of its town."""
    if not roles.is_office:
        raise NotAllowed(N_("Only the office can correct hours and points."))
    return await person(session, roles, user_id)


async def check_erase(session: AsyncSession, roles: Roles, user_id: int) -> Person:
    """The office erases a resident who has no Telegram (ordered for by station staff, or
    imported); anyone with Telegram erases themselves with /forget."""
    if not roles.is_office:
        raise NotAllowed(N_("Only the office can erase a resident's personal data."))
    who = await person(session, roles, user_id)
    if who.user.tg_id is not None:
        raise DomainError(N_("This person uses the bot: they erase their data with /forget."))
    return who


async def erase(
    session: AsyncSession, roles: Roles, user_id: int, media_dir: Path | None = None
) -> None:
    """Erase the personal data of a resident without Telegram; the figures stay
    (services/privacy.py)."""
    who = await check_erase(session, roles, user_id)
    await privacy.forget_user(
        session, who.user, await roles_of(session, who.user, frozenset()), media_dir
    )


def parse_correction(text: str, *, bonus: bool) -> Decimal:
    """Hours to add or take away (a correction), or points to add (a bonus)."""
    if bonus:
        amount = parse_hours(text, most=BONUS_MAX)  # a positive number, at most 1,000
    else:
        sign = -1 if text.strip().startswith(("-", "－")) else 1
        amount = sign * parse_hours(text.strip().lstrip("-－"), most=MAX_HOURS)
    return amount.quantize(CENT)


async def book(
    session: AsyncSession,
    roles: Roles,
    by: User,
    user_id: int,
    *,
    amount: Decimal,
    reason: str,
    bonus: bool,
    rules: points.PointsRules,
) -> PointsEntry:
    """The office books an hours correction (its points at the town's rate) or a
    commendation bonus (points only), with the reason, as a new ledger row."""
    async with unit(session, by):
        await check_booking(session, roles, user_id)
        if bonus:
            entry = await points.correct(
                session,
                user_id,
                points=amount,
                reason=reason,
                by=by,
                roles=roles,
                source=LedgerSource.BONUS,
            )
        else:
            entry = await points.correct(
                session,
                user_id,
                hours=amount,
                points=amount * rules.points_per_hour,
                reason=reason,
                by=by,
                roles=roles,
            )
    return entry
