"""The inbox's three answers: new (handle it), done (drop it), in hand elsewhere (ask to be
sent again), and the takeover of a claim whose worker died."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from models import ProcessedUpdate, utcnow
from services.inbox import (
    Claim,
    claim_update,
    forget_old,
    highest_recorded,
    is_handled,
    mark_handled,
    record_handled,
)


async def test_the_first_claim_wins_and_a_handled_update_is_done(session):
    assert await claim_update(session, 1, "w1") is Claim.NEW
    assert await claim_update(session, 1, "w2") is Claim.IN_HAND
    await mark_handled(session, 1)
    assert await claim_update(session, 1, "w2") is Claim.DONE


async def test_an_unfinished_claim_is_taken_over_once_it_is_stale(session):
    assert await claim_update(session, 2, "dead") is Claim.NEW
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.update_id == 2)
        .values(received_at=utcnow() - timedelta(seconds=61))
    )
    await session.commit()
    assert await claim_update(session, 2, "w2") is Claim.NEW
    row = await session.get(ProcessedUpdate, 2)
    assert row is not None and row.worker == "w2"
    # The taker's claim is fresh: a third worker must wait for it in turn.
    assert await claim_update(session, 2, "w3") is Claim.IN_HAND


async def test_polling_takes_over_any_unfinished_claim_at_once(session):
    # One poller per bot: an unfinished claim it meets again is its dead predecessor's.
    assert await claim_update(session, 3, "before-the-crash") is Claim.NEW
    assert await claim_update(session, 3, "after-restart", timedelta(0)) is Claim.NEW
    await mark_handled(session, 3)
    assert await claim_update(session, 3, "after-restart", timedelta(0)) is Claim.DONE


async def test_polling_records_once_and_looks_up_only_what_a_predecessor_may_have_seen(
    session,
):
    assert await highest_recorded(session) == -1
    await record_handled(session, 10, "before-the-crash")
    await claim_update(session, 11, "webhook-worker")  # left unfinished by a dead worker
    assert await highest_recorded(session) == 11
    assert await is_handled(session, 10)
    assert not await is_handled(session, 11)
    await record_handled(session, 11, "after-restart")  # done now: the claim becomes a record
    assert await is_handled(session, 11)
    row = await session.get(ProcessedUpdate, 11, populate_existing=True)
    assert row is not None and row.worker == "after-restart"


async def test_old_rows_are_forgotten_but_the_newest_is_kept(session):
    now = utcnow()
    for update_id, age in ((20, 30), (21, 8), (22, 1)):
        await record_handled(session, update_id, "w")
        await session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id)
            .values(handled_at=now - timedelta(days=age))
        )
    await claim_update(session, 19, "w")  # unfinished: never forgotten
    await session.commit()
    assert await forget_old(session, now) == 2
    assert await highest_recorded(session) == 22
    assert await session.get(ProcessedUpdate, 19) is not None
    await session.execute(update(ProcessedUpdate).values(handled_at=now - timedelta(days=30)))
    await session.commit()
    assert await forget_old(session, now) == 1  # the newest stays: polling starts from it
    assert await highest_recorded(session) == 22
