"""The unit of work every service that writes runs in: one transaction, committed once.

A public service function that changes something wraps its work in `async with unit(session,
actor):`; the helpers it calls only add and flush. Refusals (`DomainError`s) are checked
before anything is written, so a refusal usually leaves nothing to undo and the caller's
loaded objects stay usable; a refusal after a write (a lost race on a conditional UPDATE)
and any other failure roll the whole transaction back. A Core UPDATE/INSERT does not show in
`session.new/dirty/deleted`: whoever executes one says so with `wrote(session)`.

Queued notices wake the sender on commit (`session.info["outbox_added"]`, set by
services/outbox.py and read by the session's after-commit hook in the wiring).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import DomainError, NotFound

T = TypeVar("T")

_WROTE = "services.uow.wrote"  # session.info flag: this unit executed a Core write


def wrote(session: AsyncSession) -> None:
    """Note that this unit executed a write the session does not track (a Core UPDATE)."""
    session.info[_WROTE] = True


@asynccontextmanager
async def unit(session: AsyncSession, *keep: object) -> AsyncIterator[None]:
    """One transaction: commit at the end; on an error, nothing of it survives.

    After a rollback the objects in `keep` (the actor, say) are reloaded, so the caller can
    still read them, e.g. to reply in the user's language."""
    session.info[_WROTE] = False
    try:
        yield
        await session.commit()
    except DomainError:
        # Not rolling back a clean refusal keeps the caller's loaded objects usable. A
        # refusal after a write must end the transaction: on SQLite the failed UPDATE still
        # holds the write lock.
        if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
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


async def fresh(session: AsyncSession, model: type[T], row_id: int, missing: str) -> T:
    """The row as the database has it now: a long-lived session must not decide on a stale
    copy. Refuses with `missing` (a message for `NotFound`) when there is no such row."""
    row = await session.get(model, row_id, populate_existing=True)
    if row is None:
        raise NotFound(missing)
    return row
