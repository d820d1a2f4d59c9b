"""/forget erases everything personal and keeps the figures: the order's description and
phone, the rating's comment in the order's trail, the request's photo (row and file),
queued messages (cancelled) and the Telegram id on every message row, the village, party
membership and priority group. The office erases a resident without Telegram by phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from models import (
    Attachment,
    AttachmentStage,
    Order,
    OrderEvent,
    OutboxMessage,
    OutboxStatus,
    Rating,
    User,
    utcnow,
)
from services import orders
from services.outbox import NoticeKind, notify
from services.points import DEFAULT_RULES
from services.privacy import ERASED, forget_by_phone
from tests.factories import make_user
from tests.harness import BotEnv
from tests.test_authorisation_matrix import _order_in, order_cast

PHONE = "13912345678"


async def test_forget_leaves_nothing_personal_behind(bot_env):
    env: BotEnv = bot_env
    cast = await order_cast(env, "Grandma Wang", phone=PHONE)
    owner = cast["owner"]
    order = await _order_in(env, cast, "done")
    photo = Path(env.settings.media_dir) / "inbox" / "request.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"jpeg")
    async with env.sessionmaker() as s:
        me = await s.scalar(select(User).where(User.tg_id == owner.id))
        assert me is not None
        me.is_party_member = True
        await s.get(Order, order.id)
        s.add(
            Attachment(
                order_id=order.id,
                kind="photo",
                stage=AttachmentStage.REQUEST,
                file_id="f",
                file_unique_id="request",
                local_path="inbox/request.jpg",
                uploaded_by_id=me.id,
            )
        )
        await s.commit()
        await orders.rate(s, order.id, me, 5, rules=DEFAULT_RULES)
        await orders.add_rating_comment(
            s, order.id, me, "Grandma Wang says thanks, call 13912345678"
        )
        later = await notify(
            s,
            me,
            NoticeKind.ENROL_RESULT,
            not_before=utcnow() + timedelta(hours=5),
            result="removed",
            team_id=1,
            member_id=1,
            reason=None,
        )
        await s.commit()
        assert later is not None
    await env.idle()

    await owner.send("/forget")
    await owner.expect(contains="Delete your data?")
    await owner.press("🗑 Yes, delete my data")
    await owner.expect(contains="has been deleted")

    async with env.sessionmaker() as s:
        me = await s.get(User, me.id)
        assert me is not None and me.tg_id is None and me.phone is None
        assert me.station_id is None and me.priority_group_id is None
        assert not me.is_party_member
        erased = await s.get(Order, order.id)
        assert erased is not None and erased.description == ERASED
        assert erased.contact_phone is None and erased.status.value == "rated"  # figures stay
        rating = await s.scalar(select(Rating).where(Rating.order_id == order.id))
        assert rating is not None and rating.score == 5 and rating.comment is None
        notes = (
            await s.scalars(select(OrderEvent.note).where(OrderEvent.order_id == order.id))
        ).all()
        assert not any("Grandma" in (n or "") or PHONE in (n or "") for n in notes), notes
        requests = await s.scalar(
            select(func.count(Attachment.id)).where(
                Attachment.order_id == order.id, Attachment.stage == AttachmentStage.REQUEST
            )
        )
        assert requests == 0
        queued = await s.get(OutboxMessage, later.id)
        assert queued is not None and queued.status == OutboxStatus.FAILED
        chats = (
            await s.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.user_id == me.id))
        ).all()
        assert set(chats) == {0}
    assert not photo.exists()


async def test_the_office_erases_a_resident_without_telegram(session, tmp_path):
    proxy = await make_user(session, tg_id=None, name="Old Ma", phone="139 1234 5678")
    other = await make_user(session, tg_id=None, name="Someone", phone="13800000000")
    await session.commit()
    assert await forget_by_phone(session, "nobody's", tmp_path) == []
    assert await forget_by_phone(session, "+86 139-1234-5678", tmp_path) == [proxy.id]
    await session.refresh(proxy)
    await session.refresh(other)
    assert proxy.name is None and proxy.phone is None and proxy.anonymised_at is not None
    assert other.name == "Someone"
