"""The plan's volunteer KPIs: at least 80% of party members take part in volunteer service,
each serving at least 20 hours a year (targets in config: `policy.kpi`).

For a town, by station (where people live) and by team (active memberships): how many
party members there are, how many took part (any hours this year), the rate against the
target, hours, the names below the hours target, and who will miss it at the current pace —
a linear projection: hours so far / elapsed fraction of the local year.

Hours come from the points ledger (orders, activities, corrections), counted in the local
calendar year (`points.year_bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MembershipStatus,
    Region,
    Team,
    TeamMember,
    User,
)
from services.hours import per_head
from services.org import KpiTargets
from services.outbox import NoticeKind, notify
from services.people import Roles
from services.points import totals_by_user, year_bounds

CENT = Decimal("0.01")
# No nudges in the first month: with a few weeks of data, "the current pace" means little.
NUDGE_FROM_FRACTION = 1 / 12


def elapsed_fraction(year: int, now: datetime, tz: tzinfo) -> float:
    """How much of the local year `year` has passed at `now`: 0 before it, 1 after it."""
    start, end = year_bounds(year, tz)
    if now <= start:
        return 0.0
    if now >= end:
        return 1.0
    return (now - start) / (end - start)


def project(hours: Decimal, fraction: float) -> Decimal:
    """Hours by the end of the year at the current pace (linear)."""
    if fraction <= 0:
        return Decimal("0.00")
    return (hours / Decimal(str(fraction))).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class PersonKpi:
    user_id: int
    tg_id: int | None
    name: str
    station_id: int | None
    team_ids: frozenset[int]
    party_member: bool
    volunteer: bool  # an active member or leader of a team
    hours: Decimal
    points: Decimal
    projected: Decimal

    def below(self, target: Decimal) -> bool:
        return self.hours < target

    def will_miss(self, target: Decimal) -> bool:
        return self.projected < target


@dataclass(frozen=True)
class GroupKpi:
    """One row of the table: the town, a station or a team."""

    kind: str  # "town", "station" or "team"
    id: int
    name_zh: str
    name_en: str
    party_members: int
    participating: int  # party members with any hours this year
    rate: float | None  # participating / party members; None without party members
    rate_met: bool
    volunteers: int
    hours: Decimal  # all hours of the group's people this year
    party_hours: Decimal
    below: tuple[PersonKpi, ...]  # party members under the hours target, fewest hours first
    will_miss: tuple[PersonKpi, ...]  # party members projected to end the year under it

    @property
    def avg_party_hours(self) -> Decimal | None:
        return per_head(self.party_hours, self.party_members)


@dataclass(frozen=True)
class KpiReport:
    year: int
    elapsed: float
    target_rate: float
    target_hours: Decimal
    town: GroupKpi
    stations: tuple[GroupKpi, ...]
    teams: tuple[GroupKpi, ...]
    people: tuple[PersonKpi, ...]


def _group(
    kind: str,
    ident: int,
    name_zh: str,
    name_en: str,
    people: list[PersonKpi],
    targets: KpiTargets,
) -> GroupKpi:
    target_hours = Decimal(str(targets.hours_per_year))
    party = [p for p in people if p.party_member]
    took_part = [p for p in party if p.hours > 0]
    rate = len(took_part) / len(party) if party else None
    return GroupKpi(
        kind=kind,
        id=ident,
        name_zh=name_zh,
        name_en=name_en,
        party_members=len(party),
        participating=len(took_part),
        rate=rate,
        rate_met=rate is not None and rate + 1e-9 >= targets.party_participation,
        volunteers=sum(1 for p in people if p.volunteer),
        hours=sum((p.hours for p in people), Decimal("0.00")),
        party_hours=sum((p.hours for p in party), Decimal("0.00")),
        below=tuple(
            sorted((p for p in party if p.below(target_hours)), key=lambda p: (p.hours, p.name))
        ),
        will_miss=tuple(
            sorted(
                (p for p in party if p.will_miss(target_hours)),
                key=lambda p: (p.projected, p.name),
            )
        ),
    )


async def _people(
    session: AsyncSession, town_id: int, year: int, fraction: float, tz: tzinfo
) -> list[PersonKpi]:
    """The town's party members and its teams' active volunteers, with their year's hours."""
    memberships = (
        await session.execute(
            select(TeamMember.user_id, TeamMember.team_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                Team.town_id == town_id,
                Team.active.is_(True),
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
    ).all()
    teams_of: dict[int, set[int]] = {}
    for user_id, team_id in memberships:
        teams_of.setdefault(user_id, set()).add(team_id)
    party_ids = set(
        await session.scalars(
            select(User.id).where(User.town_id == town_id, User.is_party_member.is_(True))
        )
    )
    ids = sorted(party_ids | set(teams_of))
    if not ids:
        return []
    users = {
        u.id: u
        for u in await session.scalars(
            select(User).where(
                User.id.in_(ids), User.banned.is_(False), User.anonymised_at.is_(None)
            )
        )
    }
    sums = await totals_by_user(session, list(users), year, tz)
    out = []
    for uid, user in users.items():
        hours, pts = sums[uid]
        out.append(
            PersonKpi(
                user_id=uid,
                tg_id=user.tg_id,
                name=user.name or f"#{uid}",
                station_id=user.station_id,
                team_ids=frozenset(teams_of.get(uid, ())),
                party_member=bool(user.is_party_member),
                volunteer=uid in teams_of,
                hours=hours,
                points=pts,
                projected=project(hours, fraction),
            )
        )
    return sorted(out, key=lambda p: (p.name, p.user_id))


async def towns_for(session: AsyncSession, roles: Roles, user: User) -> list[int]:
    """The towns whose KPIs this person reads: their office's, the towns of the stations
    they head, and for an admin with neither, their own town."""
    towns = set(roles.office_towns)
    if roles.admin and not towns and user.town_id:
        towns.add(user.town_id)
    for station_id in roles.head_of_stations:
        station = await session.get(Region, station_id)
        if station is not None and station.parent_id is not None:
            towns.add(station.parent_id)
    return sorted(towns)


async def kpi_report(
    session: AsyncSession,
    town_id: int,
    *,
    year: int,
    now: datetime,
    tz: tzinfo,
    targets: KpiTargets | None = None,
) -> KpiReport:
    """The KPI table of a town for a year, as of `now` (for the projection)."""
    targets = targets or KpiTargets()
    town = await session.get(Region, town_id)
    if town is None:
        raise ValueError(f"no region {town_id}")
    fraction = elapsed_fraction(year, now, tz)
    people = await _people(session, town_id, year, fraction, tz)
    stations = await session.scalars(
        select(Region).where(Region.station_of(town_id)).order_by(Region.sort, Region.id)
    )
    teams = await session.scalars(
        select(Team)
        .where(Team.town_id == town_id, Team.active.is_(True))
        .order_by(Team.kind, Team.sort, Team.id)
    )
    return KpiReport(
        year=year,
        elapsed=fraction,
        target_rate=targets.party_participation,
        target_hours=Decimal(str(targets.hours_per_year)),
        town=_group("town", town.id, town.name_zh, town.name_en, people, targets),
        stations=tuple(
            _group(
                "station",
                s.id,
                s.name_zh,
                s.name_en,
                [p for p in people if p.station_id == s.id],
                targets,
            )
            for s in stations
            if s.active
        ),
        teams=tuple(
            _group(
                "team",
                t.id,
                t.name_zh,
                t.name_en,
                [p for p in people if t.id in p.team_ids],
                targets,
            )
            for t in teams
        ),
        people=tuple(people),
    )


async def monthly_kpi_nudges(
    session: AsyncSession, now: datetime, tz: tzinfo, *, targets: KpiTargets | None = None
) -> int:
    """Once a month, a friendly nudge to every active volunteer projected to end the year
    under the hours target, in every town. Non-urgent (the sender holds it through quiet
    hours); at most one per person per month (dedupe key), so running it twice is harmless.
    Nothing in January: a few weeks say little about the pace. Returns how many notices
    were queued; flushes, does not commit."""
    targets = targets or KpiTargets()
    local = now.astimezone(tz)
    fraction = elapsed_fraction(local.year, now, tz)
    if fraction < NUDGE_FROM_FRACTION:
        return 0
    target = Decimal(str(targets.hours_per_year))
    towns = await session.scalars(select(Region.id).where(Region.served_town()))
    queued = 0
    for town_id in list(towns):
        for person in await _people(session, town_id, local.year, fraction, tz):
            if not person.volunteer or not person.will_miss(target) or person.tg_id is None:
                continue
            row = await notify(
                session,
                person.user_id,
                NoticeKind.KPI_NUDGE,
                dedupe_key=f"kpi:{local.year}-{local.month:02d}:{person.user_id}",
                year=local.year,
                hours=str(person.hours),
                projected=str(person.projected),
                target=format(target.normalize(), "f"),
            )
            queued += row is not None
    await session.flush()
    return queued
