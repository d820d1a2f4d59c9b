"""The inbox's three answers: new (handle it), done (drop it), in hand elsewhere (ask to be
sent again), and the takeover of a claim whose worker died."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from models import ProcessedUpdate, utcnow
from services.inbox import Claim, claim_update, mark_handled


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
