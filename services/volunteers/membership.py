"""Team membership: applying to a team and the leader's decision, leaving,
deactivation, and reading memberships and rosters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    MemberRole,
    MembershipStatus,
    Team,
    TeamKind,
    TeamMember,
    User,
    utcnow,
)
from models.db import rowcount
from services import people
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles
from services.uow import fresh, unit, wrote
from services.volunteers.common import (
    MAX_NAME,
    MAX_REASON,
    MAX_SKILLS,
    clean_phone,
    clean_text,
    stamp,
)


@dataclass(frozen=True)
class Membership:
    member: TeamMember
    team: Team


async def memberships(
    session: AsyncSession, user_id: int, statuses: Iterable[MembershipStatus] | None = None
) -> list[Membership]:
    """A user's memberships (active and pending by default), teams in menu order."""
    wanted = list(statuses or (MembershipStatus.ACTIVE, MembershipStatus.PENDING))
    rows = await session.execute(
        select(TeamMember, Team)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user_id,
            TeamMember.status.in_(wanted),
            Team.active.is_(True),
        )
        .order_by(Team.kind, Team.sort, Team.id)
    )
    return [Membership(m, t) for m, t in rows]


async def leavable(session: AsyncSession, user: User, team_id: int | None = None) -> list[Team]:
    """The teams this person may leave (active membership as a member; leaders are
    appointed), or with `team_id` that one team. None: `NotFound`, before anything is asked."""
    mine = await memberships(session, user.id, [MembershipStatus.ACTIVE])
    teams = [
        m.team for m in mine if m.member.role == MemberRole.MEMBER and team_id in (None, m.team.id)
    ]
    if not teams:
        raise NotFound(N_("You are not a member of this team."))
    return teams


async def ever_volunteered(session: AsyncSession, user: User) -> None:
    """A certificate of hours is for someone who is or was in a team; `NotAllowed` else."""
    found = await session.scalar(
        select(TeamMember.id)
        .where(
            TeamMember.user_id == user.id,
            TeamMember.status.in_((MembershipStatus.ACTIVE, MembershipStatus.LEFT)),
        )
        .limit(1)
    )
    if found is None:
        raise NotAllowed(N_("Certificates of hours are for volunteers."))


async def joinable_teams(session: AsyncSession, user: User) -> list[Team]:
    """The teams a user may apply to: the town's specialist teams and their village squad,
    less those they are already in or waiting for."""
    if user.town_id is None:
        return []
    taken = {m.team.id for m in await memberships(session, user.id)}
    teams = await session.scalars(
        select(Team)
        .where(Team.town_id == user.town_id, Team.active.is_(True))
        .order_by(Team.kind.desc(), Team.sort, Team.id)  # the village squad first
    )
    return [
        t
        for t in teams
        if t.id not in taken and (t.kind == TeamKind.SPECIALIST or t.station_id == user.station_id)
    ]


async def team_roster(session: AsyncSession, team_id: int) -> list[tuple[TeamMember, User]]:
    """Active members of a team, leaders first, then by name."""
    rows = await session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team_id, TeamMember.status == MembershipStatus.ACTIVE)
        .order_by(TeamMember.role, User.name, User.id)
    )
    return [(m, u) for m, u in rows]


async def teams(session: AsyncSession, team_ids: Iterable[int]) -> list[Team]:
    """The teams of these ids that exist, in the order of the ids."""
    found = [await session.get(Team, team_id) for team_id in team_ids]
    return [t for t in found if t is not None]


async def manageable_teams(session: AsyncSession, roles: Roles) -> list[Team]:
    """The active teams this person may manage, in menu order."""
    found = await session.scalars(
        select(Team).where(Team.active.is_(True)).order_by(Team.kind, Team.sort, Team.id)
    )
    return [t for t in found if may_manage_team(roles, t)]


async def managed_team(session: AsyncSession, roles: Roles, team_id: int) -> Team:
    """The team, if this person may manage it (its roster, removing members)."""
    team = await session.get(Team, team_id)
    if team is None or not may_manage_team(roles, team):
        raise NotAllowed(N_("Only the team's leader can do this."))
    return team


async def removable_member_name(session: AsyncSession, member_id: int, roles: Roles) -> str:
    """The name of the person in a membership, for "take them off the team?", if this
    person may take them off (the same checks as `deactivate`, before anything is shown)."""
    member = await session.get(TeamMember, member_id)
    team = await session.get(Team, member.team_id) if member else None
    if member is None or team is None:
        raise NotAllowed(N_("Only the team's leader can do this."))
    _check_removable(roles, member, team)
    person = await session.get(User, member.user_id)
    return (person.name if person else None) or "?"


def _check_removable(roles: Roles, member: TeamMember, team: Team) -> None:
    if not may_manage_team(roles, team):
        raise NotAllowed(N_("Only the team's leader can do this."))
    office = roles.admin or team.town_id in roles.office_towns
    if member.user_id == roles.user_id or (member.role == MemberRole.LEADER and not office):
        raise NotAllowed(N_("Only the office can end a leader's appointment."))
    if member.status != MembershipStatus.ACTIVE:
        raise Conflict(N_("This person is no longer in the team."))


async def _deciders(session: AsyncSession, team: Team) -> list[User]:
    """Who decides on applications: the team's leaders (for a squad, the station head leads
    it), else the town office, else the admins."""
    return (
        await people.team_leaders(session, team.id)
        or await people.office_staff(session, team.town_id)
        or await people.admins(session)
    )


def may_manage_team(roles: Roles, team: Team) -> bool:
    """Leaders of the team, the town office and admins."""
    return roles.admin or team.id in roles.leads_teams or team.town_id in roles.office_towns


async def apply(
    session: AsyncSession,
    user: User,
    team_id: int,
    *,
    name: str | None,
    phone: str | None,
    skills: str | None,
    party_member: bool,
) -> TeamMember:
    """Apply to join a team. The applicant's details are saved on their user; the team's
    leaders get Approve / Reject. Applying again after a rejection or after leaving opens a
    new application. Commits."""
    async with unit(session, user):
        if user.banned:
            raise NotAllowed(N_("You are not allowed to do this."))
        team = await session.get(Team, team_id)
        if team is None or not team.active or team.town_id != user.town_id:
            raise NotFound(N_("This team does not exist."))
        if team.kind == TeamKind.SQUAD and team.station_id != user.station_id:
            raise NotAllowed(N_("You can join the squad of your own village only."))
        clean_name = clean_text(
            name, limit=MAX_NAME, required=True, what=N_("Please write your name.")
        )
        clean = clean_phone(phone) or user.phone
        if not clean:
            raise DomainError(N_("Please share your phone number."))
        clean_skills = clean_text(skills, limit=MAX_SKILLS, required=False, what="")
        member = await session.scalar(
            select(TeamMember)
            .where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
            .execution_options(populate_existing=True)
        )
        if member is not None and member.status == MembershipStatus.ACTIVE:
            raise Conflict(N_("You are already a member of this team."))
        if member is not None and member.status == MembershipStatus.PENDING:
            raise Conflict(N_("You have already applied to this team; the leader will decide."))
        now = utcnow()
        if member is None:
            member = TeamMember(team_id=team.id, user_id=user.id)
            session.add(member)
        member.role, member.status = MemberRole.MEMBER, MembershipStatus.PENDING
        member.joined_at, member.decided_by_id, member.note = now, None, None
        user.name, user.phone, user.skills = clean_name, clean, clean_skills
        user.is_party_member = bool(party_member)
        await session.flush()
        await notify_many(
            session,
            await _deciders(session, team),
            NoticeKind.ENROL_REQUEST,
            dedupe_key=f"enrol:{member.id}:{stamp(now)}",
            member_id=member.id,
            team_id=team.id,
            applicant_id=user.id,
        )
    return member


async def _managed_member(
    session: AsyncSession, member_id: int, actor: User, roles: Roles, refusal: str
) -> tuple[TeamMember, Team]:
    """A membership `actor` manages as a leader of its team (or the office); `refusal` says
    why not otherwise."""
    if roles.user_id != actor.id or actor.banned:
        raise NotAllowed(N_("You are not allowed to do this."))
    member, team = await _load_member(session, member_id)
    if not may_manage_team(roles, team):
        raise NotAllowed(refusal)
    return member, team


async def _load_member(session: AsyncSession, member_id: int) -> tuple[TeamMember, Team]:
    member = await fresh(session, TeamMember, member_id, N_("This application does not exist."))
    return member, await session.get_one(Team, member.team_id)  # a member's team is never deleted


async def _set_status(
    session: AsyncSession,
    member: TeamMember,
    expected: MembershipStatus,
    status: MembershipStatus,
    actor: User,
    note: str | None,
) -> None:
    """Move the membership from `expected` to `status` only if nobody moved it first."""
    wrote(session)
    result = await session.execute(
        update(TeamMember)
        .where(TeamMember.id == member.id, TeamMember.status == expected)
        .values(status=status, decided_by_id=actor.id, note=note)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise Conflict(N_("This has already been decided by someone else."))
    set_committed_value(member, "status", status)
    set_committed_value(member, "decided_by_id", actor.id)
    set_committed_value(member, "note", note)


async def decide(
    session: AsyncSession,
    member_id: int,
    actor: User,
    roles: Roles,
    *,
    approve: bool,
    note: str | None = None,
) -> TeamMember:
    """A leader of the team (or the office) approves or rejects an application; the
    applicant is told. Two deciders at once: one wins, the other gets `Conflict`. Commits."""
    async with unit(session, actor):
        member, team = await _managed_member(
            session,
            member_id,
            actor,
            roles,
            N_("Only the team's leader can decide on this application."),
        )
        if member.status != MembershipStatus.PENDING:
            raise Conflict(N_("This has already been decided by someone else."))
        clean_note = clean_text(note, limit=MAX_REASON, required=False, what="")
        status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
        await _set_status(session, member, MembershipStatus.PENDING, status, actor, clean_note)
        await notify(
            session,
            member.user_id,
            NoticeKind.ENROL_RESULT,
            dedupe_key=f"enrol:{member.id}:{stamp(member.joined_at)}:decided",
            result="approved" if approve else "rejected",
            team_id=team.id,
            member_id=member.id,
            reason=clean_note,
        )
    return member


async def leave(session: AsyncSession, user: User, team_id: int) -> TeamMember:
    """A volunteer leaves a team; its leaders are told. Leaders are appointed, so they ask
    the office instead. Commits."""
    async with unit(session, user):
        member = await session.scalar(
            select(TeamMember)
            .where(
                TeamMember.team_id == team_id,
                TeamMember.user_id == user.id,
                TeamMember.status.in_((MembershipStatus.ACTIVE, MembershipStatus.PENDING)),
            )
            .execution_options(populate_existing=True)
        )
        if member is None:
            raise NotFound(N_("You are not a member of this team."))
        if member.role == MemberRole.LEADER:
            raise NotAllowed(N_("Team leaders are appointed; ask the office to end it."))
        was = member.status
        await _set_status(session, member, was, MembershipStatus.LEFT, user, "left")
        team = await session.get(Team, team_id)
        if was == MembershipStatus.ACTIVE and team is not None:
            leaders = [u for u in await people.team_leaders(session, team.id) if u.id != user.id]
            await notify_many(
                session,
                leaders,
                NoticeKind.ENROL_RESULT,
                dedupe_key=f"enrol:{member.id}:left:{stamp(utcnow())}",
                result="left",
                team_id=team.id,
                member_id=member.id,
                volunteer_id=user.id,
            )
    return member


async def deactivate(
    session: AsyncSession, member_id: int, actor: User, roles: Roles, reason: str | None = None
) -> TeamMember:
    """A leader of the team (or the office) takes a volunteer off the team; the volunteer
    is told. A leader cannot remove another leader or themselves; the office can. Commits."""
    async with unit(session, actor):
        if roles.user_id != actor.id or actor.banned:
            raise NotAllowed(N_("You are not allowed to do this."))
        member, team = await _load_member(session, member_id)
        _check_removable(roles, member, team)
        why = clean_text(reason, limit=MAX_REASON, required=False, what="")
        note = f"deactivated: {why}" if why else "deactivated"
        await _set_status(
            session, member, MembershipStatus.ACTIVE, MembershipStatus.LEFT, actor, note
        )
        await notify(
            session,
            member.user_id,
            NoticeKind.ENROL_RESULT,
            dedupe_key=f"enrol:{member.id}:removed:{stamp(utcnow())}",
            result="removed",
            team_id=team.id,
            member_id=member.id,
            reason=why,
        )
    return member
