"""Volunteers: applying to a team and the leader's decision, leaving, deactivation, and the
institute's register (登记注册) imported from a CSV roster.

An application is a `TeamMember` row in status `pending`; the team's leaders are told with
Approve / Reject buttons (an outbox notice). Deciding is a conditional UPDATE on the
pending row, so two leaders tapping at once give one decision. Nothing is deleted: leaving
and deactivation set the membership to `left`, keeping who decided and why.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    MemberRole,
    MembershipStatus,
    Region,
    RegionLevel,
    Team,
    TeamKind,
    TeamMember,
    User,
    utcnow,
)
from services import people
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles

MAX_NAME = 64
MAX_SKILLS = 300
MAX_REASON = 200
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{5,24}")


# ---------------------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------------------


WROTE = "services.volunteers.wrote"  # session.info flag: a Core UPDATE was executed


@asynccontextmanager
async def transaction(session: AsyncSession, *keep: object) -> AsyncIterator[None]:
    """One unit of work: commit at the end; on an error roll back whatever was written.

    Refusals are checked before writing, so a refusal usually leaves nothing to undo and the
    caller's loaded objects stay usable. After a rollback the objects in `keep` (the actor,
    say) are reloaded, so a handler can still read them to reply."""
    session.info[WROTE] = False
    try:
        yield
        await session.commit()
    except DomainError:
        if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
            await _rollback_keeping(session, keep)
        raise
    except BaseException:
        await _rollback_keeping(session, keep)
        raise


async def _rollback_keeping(session: AsyncSession, keep: tuple[object, ...]) -> None:
    await session.rollback()
    for obj in keep:
        if obj is not None and obj in session:
            await session.refresh(obj)


def clean_text(value: str | None, *, limit: int, required: bool, what: str) -> str | None:
    """Trimmed text within `limit`; `what` is the msgid asking for it when it is missing."""
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(what)
        return None
    if len(text) > limit:
        raise DomainError(N_("This text is too long (at most {limit} characters)."), limit=limit)
    return text


def clean_phone(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _PHONE.fullmatch(text):
        raise DomainError(N_("That does not look like a phone number."))
    return re.sub(r"[ \-]", "", text)


def _stamp(at: datetime) -> str:
    """A moment as a dedupe-key part: each application (and decision) is told once."""
    return f"{at:%Y%m%d%H%M%S%f}"


def phone_key(phone: str | None) -> str | None:
    """Digits only, without China's +86: the same number however it was written."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Applying, deciding, leaving, deactivating
# ---------------------------------------------------------------------------------------


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
    async with transaction(session, user):
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
            dedupe_key=f"enrol:{member.id}:{_stamp(now)}",
            member_id=member.id,
            team_id=team.id,
            applicant_id=user.id,
        )
    return member


async def _load_member(session: AsyncSession, member_id: int) -> tuple[TeamMember, Team]:
    member = await session.scalar(
        select(TeamMember)
        .where(TeamMember.id == member_id)
        .execution_options(populate_existing=True)
    )
    team = await session.get(Team, member.team_id) if member else None
    if member is None or team is None:
        raise NotFound(N_("This application does not exist."))
    return member, team


async def _set_status(
    session: AsyncSession,
    member: TeamMember,
    expected: MembershipStatus,
    status: MembershipStatus,
    actor: User,
    note: str | None,
) -> None:
    """Move the membership from `expected` to `status` only if nobody moved it first."""
    session.info[WROTE] = True
    result = await session.execute(
        update(TeamMember)
        .where(TeamMember.id == member.id, TeamMember.status == expected)
        .values(status=status, decided_by_id=actor.id, note=note)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
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
    async with transaction(session, actor):
        if roles.user_id != actor.id or actor.banned:
            raise NotAllowed(N_("You are not allowed to do this."))
        member, team = await _load_member(session, member_id)
        if not may_manage_team(roles, team):
            raise NotAllowed(N_("Only the team's leader can decide on this application."))
        if member.status != MembershipStatus.PENDING:
            raise Conflict(N_("This has already been decided by someone else."))
        clean_note = clean_text(note, limit=MAX_REASON, required=False, what="")
        status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
        await _set_status(session, member, MembershipStatus.PENDING, status, actor, clean_note)
        await notify(
            session,
            member.user_id,
            NoticeKind.ENROL_RESULT,
            dedupe_key=f"enrol:{member.id}:{_stamp(member.joined_at)}:decided",
            result="approved" if approve else "rejected",
            team_id=team.id,
            member_id=member.id,
            reason=clean_note,
        )
    return member


async def leave(session: AsyncSession, user: User, team_id: int) -> TeamMember:
    """A volunteer leaves a team; its leaders are told. Leaders are appointed, so they ask
    the office instead. Commits."""
    async with transaction(session, user):
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
                dedupe_key=f"enrol:{member.id}:left:{_stamp(utcnow())}",
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
    async with transaction(session, actor):
        if roles.user_id != actor.id or actor.banned:
            raise NotAllowed(N_("You are not allowed to do this."))
        member, team = await _load_member(session, member_id)
        if not may_manage_team(roles, team):
            raise NotAllowed(N_("Only the team's leader can do this."))
        office = roles.admin or team.town_id in roles.office_towns
        if member.user_id == actor.id or (member.role == MemberRole.LEADER and not office):
            raise NotAllowed(N_("Only the office can end a leader's appointment."))
        if member.status != MembershipStatus.ACTIVE:
            raise Conflict(N_("This person is no longer in the team."))
        why = clean_text(reason, limit=MAX_REASON, required=False, what="")
        note = f"deactivated: {why}" if why else "deactivated"
        await _set_status(
            session, member, MembershipStatus.ACTIVE, MembershipStatus.LEFT, actor, note
        )
        await notify(
            session,
            member.user_id,
            NoticeKind.ENROL_RESULT,
            dedupe_key=f"enrol:{member.id}:removed:{_stamp(utcnow())}",
            result="removed",
            team_id=team.id,
            member_id=member.id,
            reason=why,
        )
    return member


# ---------------------------------------------------------------------------------------
# The CSV roster (command line)
# ---------------------------------------------------------------------------------------

ROSTER_COLUMNS = ("name", "phone", "telegram_id", "station", "skills", "party_member")
REQUIRED_COLUMNS = ("name", "phone", "station")
_HEADER_ALIASES = {
    "name": "name",
    "姓名": "name",
    "phone": "phone",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "telegram_id": "telegram_id",
    "tg_id": "telegram_id",
    "telegram": "telegram_id",
    "station": "station",
    "station_code": "station",
    "station code": "station",
    "站点": "station",
    "村": "station",
    "skills": "skills",
    "技能": "skills",
    "特长": "skills",
    "party_member": "party_member",
    "party member": "party_member",
    "party": "party_member",
    "党员": "party_member",
}
_YES = {"yes", "y", "true", "1", "是", "党员", "√"}
_NO = {"", "no", "n", "false", "0", "否", "群众"}


class RosterError(ValueError):
    """The file as a whole cannot be read (unknown team, missing columns)."""


@dataclass(frozen=True)
class RosterProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class RosterReport:
    created: int = 0  # new volunteers (a new user, or a new membership of this team)
    updated: int = 0  # known volunteers whose details or membership changed
    unchanged: int = 0
    kept_out: list[RosterProblem] = field(default_factory=list)  # left the team: not re-added
    problems: list[RosterProblem] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        return (
            f"{self.created} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.kept_out)} not re-added, {len(self.problems)} with problems"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    name: str
    phone: str
    tg_id: int | None
    station: Region
    skills: str | None
    party: bool


async def _find_team(session: AsyncSession, code: str) -> Team:
    team = await session.scalar(select(Team).where(Team.code == code))
    if team is None:  # a town-local code ("health") when it names one team only
        found = list(await session.scalars(select(Team).where(Team.code.like(f"%.{code}"))))
        team = found[0] if len(found) == 1 else None
    if team is None or not team.active:
        raise RosterError(f"no active team with the code {code!r} (see `org show`)")
    return team


async def _station_index(session: AsyncSession, town_id: int) -> dict[str, Region]:
    stations = await session.scalars(
        select(Region).where(Region.parent_id == town_id, Region.level == RegionLevel.STATION)
    )
    index: dict[str, Region] = {}
    for s in stations:
        if not s.active:
            continue
        for key in (s.code, s.code.rsplit(".", 1)[-1], s.name_zh, s.name_en):
            index[key.strip().lower()] = s
    return index


def _read_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line number, {column: value}) for each data row, and the header's columns."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise RosterError("the file is empty") from exc
    columns = [_HEADER_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise RosterError(
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(ROSTER_COLUMNS)}"
        )
    rows = []
    line = reader.line_num
    for values in reader:
        first, line = line + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue
        rows.append(
            (first, {c: (values[i] if i < len(values) else "") for i, c in enumerate(columns)})
        )
    return rows, columns


def _parse_row(line: int, raw: dict[str, str], stations: dict[str, Region]) -> _Row:
    """One row checked; raises ValueError with what is wrong."""
    name = raw.get("name", "").strip()
    if not name:
        raise ValueError("the name is empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"the name is longer than {MAX_NAME} characters")
    phone_text = raw.get("phone", "").strip()
    if not phone_text:
        raise ValueError("the phone is empty")
    if not _PHONE.fullmatch(phone_text):
        raise ValueError(f"{phone_text!r} is not a phone number")
    tg_text = raw.get("telegram_id", "").strip()
    if tg_text and not (tg_text.isdigit() and 0 < int(tg_text) < 2**52):
        raise ValueError(f"telegram_id {tg_text!r} is not a Telegram user id")
    station_text = raw.get("station", "").strip()
    station = stations.get(station_text.lower())
    if station is None:
        raise ValueError(f"unknown station {station_text!r}")
    skills = raw.get("skills", "").strip() or None
    if skills and len(skills) > MAX_SKILLS:
        raise ValueError(f"skills are longer than {MAX_SKILLS} characters")
    party_text = raw.get("party_member", "").strip().lower()
    if party_text not in _YES | _NO:
        raise ValueError(f"party_member {party_text!r} is not yes or no")
    return _Row(
        line=line,
        name=name,
        phone=re.sub(r"[ \-]", "", phone_text),
        tg_id=int(tg_text) if tg_text else None,
        station=station,
        skills=skills,
        party=party_text in _YES,
    )


async def import_roster(session: AsyncSession, text: str, team_code: str) -> RosterReport:
    """Register the volunteers listed in a CSV roster as active members of a team.

    Columns (a header line first; Chinese headers are understood too): name, phone,
    telegram_id (optional), station (a station code or name), skills, party_member
    (yes/no). A person is matched by Telegram id, else by phone number, so importing the
    same file again changes nothing. A bad row is reported with its line number and the
    good rows are imported all the same. Someone who has left the team is not re-added.
    Commits once at the end; raises `RosterError` when the file as a whole is unusable.
    """
    team = await _find_team(session, team_code)
    stations = await _station_index(session, team.town_id)
    raw_rows, _columns = _read_rows(text)
    report = RosterReport()
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, raw in raw_rows:
        try:
            row = _parse_row(line, raw, stations)
        except ValueError as exc:
            report.problems.append(RosterProblem(line, str(exc)))
            continue
        keys = [f"phone:{phone_key(row.phone)}"] + ([f"tg:{row.tg_id}"] if row.tg_id else [])
        twin = next((seen[k] for k in keys if k in seen), None)
        if twin is not None:
            report.problems.append(RosterProblem(line, f"the same person as line {twin}"))
            continue
        seen.update(dict.fromkeys(keys, line))
        rows.append(row)
    by_tg, by_phone = await _known_people(session, team.town_id, rows)
    for row in rows:
        user = by_tg.get(row.tg_id) if row.tg_id else None
        user = user or by_phone.get(phone_key(row.phone) or "")
        if user is not None and row.tg_id and user.tg_id not in (None, row.tg_id):
            report.problems.append(
                RosterProblem(row.line, "the phone belongs to someone with another telegram_id")
            )
            continue
        await _register(session, team, row, user, report)
    await session.commit()
    return report


async def _known_people(
    session: AsyncSession, town_id: int, rows: list[_Row]
) -> tuple[dict[int, User], dict[str, User]]:
    tg_ids = [r.tg_id for r in rows if r.tg_id]
    by_tg = {
        u.tg_id: u
        for u in await session.scalars(select(User).where(User.tg_id.in_(tg_ids)))
        if u.tg_id is not None
    }
    by_phone: dict[str, User] = {}
    candidates = await session.scalars(
        select(User).where(User.town_id == town_id, User.phone.is_not(None)).order_by(User.id)
    )
    for u in candidates:
        by_phone.setdefault(phone_key(u.phone) or "", u)
    return by_tg, by_phone


async def _register(
    session: AsyncSession, team: Team, row: _Row, user: User | None, report: RosterReport
) -> None:
    member = None
    if user is not None:
        member = await session.scalar(
            select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
        )
    if member is not None and member.status in (MembershipStatus.LEFT, MembershipStatus.REJECTED):
        report.kept_out.append(
            RosterProblem(row.line, f"{row.name} is no longer in the team; not re-added")
        )
        return
    created = user is None or member is None
    if user is None:
        user = User(tg_id=row.tg_id, locale="zh_CN")
        session.add(user)
    values = {
        "name": row.name,
        "phone": row.phone,
        "station_id": row.station.id,
        "town_id": row.station.parent_id,
        "skills": row.skills,
        "is_party_member": row.party,
        "registered": True,
    }
    if row.tg_id and user.tg_id is None:
        values["tg_id"] = row.tg_id
    changed = False
    for key, value in values.items():
        if getattr(user, key, None) != value:
            setattr(user, key, value)
            changed = True
    await session.flush()
    if member is None:
        session.add(
            TeamMember(
                team_id=team.id,
                user_id=user.id,
                role=MemberRole.MEMBER,
                status=MembershipStatus.ACTIVE,
                joined_at=utcnow(),
                note="roster import",
            )
        )
    elif member.status == MembershipStatus.PENDING:
        member.status, member.note = MembershipStatus.ACTIVE, "roster import"
        changed = True
    await session.flush()
    if created:
        report.created += 1
    elif changed:
        report.updated += 1
    else:
        report.unchanged += 1


def roster_template() -> str:
    """An example roster, for `roster import --help` and the README."""
    return ",".join(ROSTER_COLUMNS) + "\n王建国,13900000001,,miaomiaohu,义诊,yes\n"
