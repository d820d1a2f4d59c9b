"""Alembic owns the schema: the migrations build exactly the models, and every revision
can be undone and redone (on SQLite, and on PostgreSQL under `make test-db`)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Base
from models.migrate import alembic_config, downgrade, upgrade


def _diff(sync_conn) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_and_models_agree(engine: AsyncEngine):
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_every_revision_goes_down_and_up_again(blank_db_url):
    url = blank_db_url
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = list(reversed(list(script.walk_revisions())))
    assert len(script.get_heads()) == 1, "two migration heads: merge them"
    for revision in revisions:
        upgrade(url, revision.revision)
        downgrade(url, revision.down_revision or "base")
        upgrade(url, revision.revision)
