from sqlalchemy import select

from models import Region, RegionLevel


async def test_fresh_database_is_migrated_and_empty(session):
    session.add(Region(code="x", level=RegionLevel.TOWN, name_zh="某镇", name_en="Some town"))
    await session.commit()
    rows = (await session.scalars(select(Region))).all()
    assert [r.code for r in rows] == ["x"]
