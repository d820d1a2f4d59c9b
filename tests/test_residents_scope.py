"""👥 Residents: the office finds exactly the people whose card it may open — those living in
its town and the volunteers of its town's teams, who may live elsewhere."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services import residents
from tests.factories import Cast, make_org, make_volunteer, roles_for


async def test_the_office_finds_a_volunteer_of_its_town_who_lives_elsewhere(
    session: AsyncSession, cast: Cast
):
    volunteer = cast.health_vol  # in the town's health team, no village of their own
    assert volunteer.town_id is None
    office = await roles_for(session, cast.office)

    found = await residents.find(session, office, volunteer.name or "")

    assert [u.id for u in found] == [volunteer.id]
    assert (await residents.person(session, office, volunteer.id)).user.id == volunteer.id


async def test_the_office_does_not_find_a_volunteer_of_another_towns_team(
    session: AsyncSession, cast: Cast
):
    other = await make_org(session, town_code="other")
    stranger = await make_volunteer(session, other.health, name="外镇志愿")
    office = await roles_for(session, cast.office)

    assert await residents.find(session, office, "外镇") == []
    assert stranger.town_id is None
