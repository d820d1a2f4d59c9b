"""The update inbox: each Telegram update is handled once, however often it is delivered.

Telegram redelivers webhooks that were not answered 200, several workers may receive the
same update, and a restart re-reads updates that were fetched but not finished. A row per
update id decides: the first claim wins; a claim left unfinished for `stale_after` (its
worker died) may be taken over, so a crash loses nothing.

Long polling has one reader per bot, so it needs no claim: it records an update once it is
handled (one write, not two), and only ids up to the highest recorded before it started can
have been handled already — a restart re-reads those, nothing newer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import ProcessedUpdate, utcnow
from models.db import dialect_insert, rowcount
from services.uow import unit

STALE_AFTER = timedelta(seconds=60)
# Telegram keeps an update for 24 hours at most: a row older than this can never be needed.
KEEP_FOR = timedelta(days=7)


class Claim(StrEnum):
    NEW = "new"  # ours to handle now
    DONE = "done"  # handled already: acknowledge and drop
    IN_HAND = "in_hand"  # another worker has it and may still finish: ask to be sent again


async def claim_update(
    session: AsyncSession, update_id: int, worker: str, stale_after: timedelta = STALE_AFTER
) -> Claim:
    """Whether this worker should handle the update now. Commits.

    With `stale_after` zero every unfinished claim is taken over: right for long polling,
    where one process fetches updates and any unfinished claim is a dead predecessor's."""
    now = utcnow()
    try:
        async with unit(session):
            await session.execute(
                insert(ProcessedUpdate).values(update_id=update_id, received_at=now, worker=worker)
            )
        return Claim.NEW
    except IntegrityError:
        pass  # recorded already (the unit rolled back): by whom, and is it done?
    row = await session.get(ProcessedUpdate, update_id, populate_existing=True)
    if row is None or row.handled_at is not None:
        return Claim.DONE
    if row.received_at > now - stale_after:
        return Claim.IN_HAND
    async with unit(session):
        taken = await session.execute(
            update(ProcessedUpdate)
            .where(
                ProcessedUpdate.update_id == update_id,
                ProcessedUpdate.handled_at.is_(None),
                ProcessedUpdate.received_at == row.received_at,
            )
            .values(received_at=now, worker=worker)
        )
    # Lost the race for a takeover to another worker: it has the update now.
    return Claim.NEW if rowcount(taken) == 1 else Claim.IN_HAND


async def mark_handled(session: AsyncSession, update_id: int) -> None:
    async with unit(session):
        await session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id)
            .values(handled_at=utcnow())
        )


async def highest_recorded(session: AsyncSession) -> int:
    """The highest update id ever recorded (-1 for none)."""
    return int(await session.scalar(select(func.max(ProcessedUpdate.update_id))) or -1)


async def is_handled(session: AsyncSession, update_id: int) -> bool:
    handled_at = await session.scalar(
        select(ProcessedUpdate.handled_at).where(ProcessedUpdate.update_id == update_id)
    )
    return handled_at is not None


async def record_handled(
    session: AsyncSession, update_ids: int | Sequence[int], worker: str
) -> None:
    """A row per update saying it is done (replacing a claim a dead worker left), all in
    one transaction: updates that finish together are recorded together. Commits."""
    ids = [update_ids] if isinstance(update_ids, int) else list(update_ids)
    now = utcnow()
    rows = [{"update_id": i, "received_at": now, "handled_at": now, "worker": worker} for i in ids]
    async with unit(session):
        await session.execute(
            dialect_insert(session)(ProcessedUpdate)
            .values(rows)
            .on_conflict_do_update(
                index_elements=[ProcessedUpdate.update_id],
                set_={"handled_at": now, "worker": worker},
            )
        )


async def forget_old(session: AsyncSession, now: datetime, keep: timedelta = KEEP_FOR) -> int:
    """Drop handled rows older than `keep` (the newest is kept: polling starts from it), so
    the table does not grow by a row per update forever. Commits; returns how many."""
    newest = select(func.max(ProcessedUpdate.update_id)).scalar_subquery()
    async with unit(session):
        result = await session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.handled_at < now - keep, ProcessedUpdate.update_id < newest
            )
        )
    return rowcount(result)
