"""Readable numbers for orders and activities: a town prefix, a local day, a sequence.

"TA-20261130-0007" (an order), "TA-HD-20261205-01" (an activity). The row is inserted before
it is numbered, which on SQLite takes the one write lock; PostgreSQL takes a transaction-scoped
advisory lock per stem. Either way no other transaction reads the same last number before
this one commits.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


def town_prefix(town_code: str, fallback: str) -> str:
    """The first two letters of the town's code, upper case ("taole" → "TA")."""
    letters = [c for c in town_code if c.isalpha()]
    return "".join(letters[:2]).upper() or fallback


async def next_number(session: AsyncSession, column: Any, stem: str, width: int) -> str:
    """The next free number under `stem` in `column`, zero-padded to `width` digits."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(stem.encode()))))
    last = await session.scalar(
        select(column)
        .where(column.like(f"{stem}%"))
        .order_by(func.length(column).desc(), column.desc())
        .limit(1)
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{seq:0{width}d}"
