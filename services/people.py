"""People and their roles: users, appointments, team membership and one-use invites."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Select, String, cast, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Invite,
    MemberRole,
    MembershipStatus,
    Region,
    RegionLevel,
    Role,
    StaffRole,
    Team,
    TeamKind,
    TeamMember,
    Unit,
    User,
    utcnow,
)
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_

INVITE_TTL = timedelta(days=3)


@dataclass(frozen=True)
class Roles:
    """What a user may do, computed once per update."""

    user_id: int
    admin: bool = False
    office_towns: frozenset[int] = field(default_factory=frozenset)
    head_of_stations: frozenset[int] = field(default_factory=frozenset)
    leads_teams: frozenset[int] = field(default_factory=frozenset)
    member_of_teams: frozenset[int] = field(default_factory=frozenset)
    # 站所联络员: the units (站所) this person receives and dispatches orders for.
    dispatches_for: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_office(self) -> bool:
        return self.admin or bool(self.office_towns)

    @property
    def is_staff(self) -> bool:
        return self.is_office or bool(
            self.head_of_stations or self.leads_teams or self.dispatches_for
        )

    @property
    def is_volunteer(self) -> bool:
        return bool(self.member_of_teams or self.leads_teams)

    def names(self) -> set[Role]:
        held = [
            (Role.ADMIN, self.admin),
            (Role.OFFICE, self.office_towns),
            (Role.STATION_HEAD, self.head_of_stations),
            (Role.DISPATCHER, self.dispatches_for),
            (Role.TEAM_LEADER, self.leads_teams),
            (Role.VOLUNTEER, self.member_of_teams),
        ]
        return {Role.RESIDENT} | {role for role, has in held if has}


async def user_by_tg(session: AsyncSession, tg_id: int) -> User | None:
    return await session.scalar(select(User).where(User.tg_id == tg_id))


async def get_or_create_user(
    session: AsyncSession,
    tg_id: int,
    *,
    first_name: str | None = None,
    username: str | None = None,
    locale: str | None = None,
) -> User:
    """The user behind a Telegram id; a first contact creates an unregistered user."""
    user = await user_by_tg(session, tg_id)
    if user is None:
        user = User(tg_id=tg_id, tg_username=username, name=None, locale=locale)
        session.add(user)
        await session.flush()
    return user


async def roles_of(session: AsyncSession, user: User, admin_tg_ids: frozenset[int]) -> Roles:
    # Every update asks this: staff roles and team memberships in one round trip.
    # One row type for both halves of the union (a team id is never null).
    staff_q: Select[str, str, int | None] = select(
        literal("staff").label("kind"),
        cast(StaffRole.role, String).label("role"),
        # A dispatcher's appointment names a unit; every other one a region (or nothing).
        func.coalesce(StaffRole.unit_id, StaffRole.region_id).label("ref"),
    ).where(StaffRole.user_id == user.id, StaffRole.active.is_(True))
    member_q: Select[str, str, int | None] = (
        select(literal("team"), cast(TeamMember.role, String), TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user.id,
            TeamMember.status == MembershipStatus.ACTIVE,
            Team.active.is_(True),
        )
    )
    rows = (await session.execute(union_all(staff_q, member_q))).all()
    staff = [(Role(role), ref) for kind, role, ref in rows if kind == "staff"]
    members = [
        (ref, MemberRole(role)) for kind, role, ref in rows if kind == "team" and ref is not None
    ]
    return Roles(
        user_id=user.id,
        admin=(user.tg_id in admin_tg_ids) or any(r == Role.ADMIN for r, _ in staff),
        office_towns=frozenset(reg for r, reg in staff if r == Role.OFFICE and reg),
        head_of_stations=frozenset(reg for r, reg in staff if r == Role.STATION_HEAD and reg),
        dispatches_for=frozenset(ref for r, ref in staff if r == Role.DISPATCHER and ref),
        leads_teams=frozenset(t for t, r in members if r == MemberRole.LEADER),
        member_of_teams=frozenset(t for t, r in members if r == MemberRole.MEMBER),
    )


class RolesCache:
    """People's roles as this worker last computed them, each good for as long as the
    user's `roles_version` is the one it was computed at: the database raises it with any
    change to their appointments, memberships or teams (migration 0007's triggers), so a
    change made by any worker or any statement is seen on the person's next update.

    Only for a user row loaded afresh (the update's own): an object loaded before a change
    in the same session still carries the old stamp."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        # None for a resident and nothing more (most people): a small tuple each, not a Roles.
        self._kept: dict[int, tuple[int, Roles | None]] = {}

    async def roles(self, session: AsyncSession, user: User, admin_tg_ids: frozenset[int]) -> Roles:
        kept = self._kept.get(user.id)
        if kept is not None and kept[0] == user.roles_version:
            return kept[1] or Roles(user_id=user.id)
        roles = await roles_of(session, user, admin_tg_ids)
        if len(self._kept) >= self.size:
            del self._kept[next(iter(self._kept))]  # the oldest entry
        self._kept[user.id] = (user.roles_version, None if roles == Roles(user.id) else roles)
        return roles


# ---------------------------------------------------------------------------------------
# Who holds a role: the people an order, a report or a request goes to
# ---------------------------------------------------------------------------------------


def _reachable(stmt: Select[User]) -> Select[User]:
    # A banned user may not act, and one who blocked the bot would never see a card:
    # either way they cannot take an order, so routing must look further.
    return stmt.where(User.banned.is_(False), User.blocked.is_(False)).order_by(User.id)


async def team_leaders(session: AsyncSession, team_id: int) -> list[User]:
    """Active, reachable leaders of an active team."""
    stmt = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.team_id == team_id,
            TeamMember.role == MemberRole.LEADER,
            TeamMember.status == MembershipStatus.ACTIVE,
            Team.active.is_(True),
        )
    )
    return list(await session.scalars(_reachable(stmt)))


async def _staff(session: AsyncSession, role: Role, region_id: int | None) -> list[User]:
    stmt = (
        select(User)
        .join(StaffRole, StaffRole.user_id == User.id)
        .where(StaffRole.role == role, StaffRole.active.is_(True))
    )
    if region_id is not None:
        stmt = stmt.where(StaffRole.region_id == region_id)
    return list(await session.scalars(_reachable(stmt)))


async def office_staff(session: AsyncSession, town_id: int) -> list[User]:
    return await _staff(session, Role.OFFICE, town_id)


async def station_heads(session: AsyncSession, station_id: int) -> list[User]:
    return await _staff(session, Role.STATION_HEAD, station_id)


async def unit_dispatchers(session: AsyncSession, unit_ids: Iterable[int]) -> list[User]:
    """Active, reachable dispatchers (站所联络员) of any of these units, each once."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    stmt = (
        select(User)
        .join(StaffRole, StaffRole.user_id == User.id)
        .join(Unit, Unit.id == StaffRole.unit_id)
        .where(
            StaffRole.role == Role.DISPATCHER,
            StaffRole.active.is_(True),
            StaffRole.unit_id.in_(ids),
            Unit.active.is_(True),
        )
        .distinct()
    )
    return list(await session.scalars(_reachable(stmt)))


async def admins(session: AsyncSession) -> list[User]:
    """Admins appointed in the database (ADMIN_IDS from settings are not known here)."""
    return await _staff(session, Role.ADMIN, None)


async def station_squad(session: AsyncSession, station_id: int) -> Team | None:
    """The station's active volunteer squad."""
    return await session.scalar(
        select(Team).where(
            Team.station_id == station_id, Team.kind == TeamKind.SQUAD, Team.active.is_(True)
        )
    )


async def _station_squad(session: AsyncSession, station_id: int) -> Team | None:
    return await session.scalar(
        select(Team).where(Team.station_id == station_id, Team.kind == TeamKind.SQUAD)
    )


async def _set_membership(
    session: AsyncSession, user: User, team: Team, role: MemberRole, by: User | None
) -> None:
    member = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user.id, role=role)
        session.add(member)
    elif member.role == MemberRole.LEADER and role == MemberRole.MEMBER:
        return  # adding a leader "as a volunteer" must not demote them
    member.role = role
    member.status = MembershipStatus.ACTIVE
    member.decided_by_id = by.id if by else None


async def appoint(
    session: AsyncSession,
    user: User,
    role: Role,
    *,
    region: Region | None = None,
    team: Team | None = None,
    unit: Unit | None = None,
    by: User | None = None,
) -> None:
    """Give `user` a staff role. A station head also leads the station's squad (as the plan
    has the village party secretary lead it); a dispatcher serves one unit (站所).
    Flushes; the caller commits."""
    if role == Role.DISPATCHER:
        await _appoint_dispatcher(session, user, unit, by)
    elif role == Role.TEAM_LEADER or role == Role.VOLUNTEER:
        if team is None:
            raise NotFound(N_("Choose a team first."))
        member_role = MemberRole.LEADER if role == Role.TEAM_LEADER else MemberRole.MEMBER
        await _set_membership(session, user, team, member_role, by)
    else:
        if role == Role.STATION_HEAD and (region is None or region.level != RegionLevel.STATION):
            raise NotFound(N_("Choose a station first."))
        if role == Role.OFFICE and (region is None or region.level != RegionLevel.TOWN):
            raise NotFound(N_("Choose a town first."))
        existing = await session.scalar(
            select(StaffRole).where(
                StaffRole.user_id == user.id,
                StaffRole.role == role,
                StaffRole.region_id == (region.id if region else None),
            )
        )
        if existing is None:
            session.add(
                StaffRole(
                    user_id=user.id,
                    role=role,
                    region_id=region.id if region else None,
                    appointed_by_id=by.id if by else None,
                )
            )
        else:
            existing.active = True
        if role == Role.STATION_HEAD and region is not None:
            squad = await _station_squad(session, region.id)
            if squad is not None:
                await _set_membership(session, user, squad, MemberRole.LEADER, by)
        if region is not None and user.station_id is None and region.level == RegionLevel.STATION:
            user.station_id = region.id
    await session.flush()


async def _appoint_dispatcher(
    session: AsyncSession, user: User, unit: Unit | None, by: User | None
) -> None:
    if unit is None or not unit.active:
        raise NotFound(N_("Choose a unit first."))
    existing = await session.scalar(
        select(StaffRole).where(
            StaffRole.user_id == user.id,
            StaffRole.role == Role.DISPATCHER,
            StaffRole.unit_id == unit.id,
        )
    )
    if existing is None:
        session.add(
            StaffRole(
                user_id=user.id,
                role=Role.DISPATCHER,
                region_id=None,
                unit_id=unit.id,
                appointed_by_id=by.id if by else None,
            )
        )
    else:
        existing.active = True
    if user.town_id is None:
        user.town_id = unit.town_id


async def set_work_unit(session: AsyncSession, user: User, unit: Unit | None) -> None:
    """双报道: the unit a party member works at (None: none). Flushes; the caller commits."""
    if unit is not None and not user.is_party_member:
        raise DomainError(N_("Only party members report to a work unit."))
    if unit is not None and not unit.active:
        raise NotFound(N_("Choose a unit first."))
    user.work_unit_id = unit.id if unit else None
    await session.flush()


async def dismiss(session: AsyncSession, user: User, role: Role) -> int:
    """Take a role away; returns how many appointments ended."""
    ended = 0
    if role in (Role.TEAM_LEADER, Role.VOLUNTEER):
        want = MemberRole.LEADER if role == Role.TEAM_LEADER else MemberRole.MEMBER
        rows = await session.scalars(
            select(TeamMember).where(
                TeamMember.user_id == user.id,
                TeamMember.role == want,
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
        for member in rows:
            member.status = MembershipStatus.LEFT
            ended += 1
    else:
        appointments = await session.scalars(
            select(StaffRole).where(
                StaffRole.user_id == user.id, StaffRole.role == role, StaffRole.active.is_(True)
            )
        )
        for staff in appointments:
            staff.active = False
            ended += 1
    await session.flush()
    return ended


@dataclass(frozen=True)
class StaffLine:
    tg_id: int | None
    name: str | None
    role: str
    where: str


async def staff_list(session: AsyncSession) -> list[StaffLine]:
    lines: list[StaffLine] = []
    staff = await session.execute(
        select(User, StaffRole, Region, Unit)
        .join(StaffRole, StaffRole.user_id == User.id)
        .outerjoin(Region, Region.id == StaffRole.region_id)
        .outerjoin(Unit, Unit.id == StaffRole.unit_id)
        .where(StaffRole.active.is_(True))
        .order_by(StaffRole.role, User.id)
    )
    for user, role, region, unit in staff:
        where = unit.name_zh if unit else region.name_zh if region else "-"
        lines.append(StaffLine(user.tg_id, user.name, role.role.value, where))
    leaders = await session.execute(
        select(User, Team)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.role == MemberRole.LEADER, TeamMember.status == MembershipStatus.ACTIVE)
        .order_by(Team.sort, Team.id)
    )
    for user, team in leaders:
        lines.append(StaffLine(user.tg_id, user.name, Role.TEAM_LEADER.value, team.name_zh))
    return lines


async def create_invite(
    session: AsyncSession,
    role: Role,
    *,
    by: User | None,
    region: Region | None = None,
    team: Team | None = None,
    unit: Unit | None = None,
    ttl: timedelta = INVITE_TTL,
) -> Invite:
    invite = Invite(
        code=secrets.token_urlsafe(12),
        role=role,
        region_id=region.id if region else None,
        team_id=team.id if team else None,
        unit_id=unit.id if unit else None,
        created_by_id=by.id if by else None,
        expires_at=utcnow() + ttl,
    )
    session.add(invite)
    await session.flush()
    return invite


async def redeem_invite(session: AsyncSession, code: str, user: User) -> Invite:
    """Use a one-use code: appoints `user` as the invite says. Flushes; the caller commits.

    The code is spent by a conditional UPDATE before anything is appointed, so of several
    people opening one link at the same moment exactly one is appointed; the others wait
    for that transaction and then find the code used."""
    invite = await session.scalar(select(Invite).where(Invite.code == code))
    if invite is None:
        raise NotFound(N_("This invitation link is not valid."))
    now = utcnow()
    if invite.used_at is None and invite.expires_at < now:
        raise NotAllowed(N_("This invitation link has expired. Ask for a new one."))
    spent = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.expires_at >= now)
        .values(used_at=now, used_by_id=user.id)
        .returning(Invite.id)
        .execution_options(synchronize_session=False)
    )
    if spent.scalar() is None:
        raise Conflict(N_("This invitation link has already been used."))
    set_committed_value(invite, "used_at", now)
    set_committed_value(invite, "used_by_id", user.id)
    region = await session.get(Region, invite.region_id) if invite.region_id else None
    team = await session.get(Team, invite.team_id) if invite.team_id else None
    unit = await session.get(Unit, invite.unit_id) if invite.unit_id else None
    await appoint(
        session,
        user,
        invite.role,
        region=region,
        team=team,
        unit=unit,
        by=await session.get(User, invite.created_by_id) if invite.created_by_id else None,
    )
    return invite


def can_appoint(roles: Roles, role: Role, *, town_id: int | None, team_id: int | None) -> bool:
    """Admins appoint anyone; office staff appoint heads, unit dispatchers, leaders and
    volunteers in their town; a team leader adds volunteers to their own team."""
    if roles.admin:
        return True
    delegable = (Role.STATION_HEAD, Role.DISPATCHER, Role.TEAM_LEADER, Role.VOLUNTEER)
    if role in delegable and town_id is not None and town_id in roles.office_towns:
        return True
    return role == Role.VOLUNTEER and team_id is not None and team_id in roles.leads_teams


async def find_registered(session: AsyncSession, text: str, limit: int = 8) -> list[User]:
    """Registered users whose name contains `text` (for picking someone to appoint)."""
    pattern = f"%{text.strip()}%"
    return list(
        (
            await session.scalars(
                select(User)
                .where(User.registered.is_(True), User.name.like(pattern), User.tg_id.is_not(None))
                .order_by(User.name)
                .limit(limit)
            )
        ).all()
    )
