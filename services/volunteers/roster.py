"""The institute's register (登记注册) imported from a CSV roster (command line): one team
at a time, people matched by phone, every problem reported with its line."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MemberRole,
    MembershipStatus,
    Region,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services.uow import unit
from services.volunteers.common import MAX_NAME, MAX_SKILLS, PHONE_PATTERN, phone_key

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
    stations = await session.scalars(select(Region).where(Region.station_of(town_id)))
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
    if not PHONE_PATTERN.fullmatch(phone_text):
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
    async with unit(session):
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
