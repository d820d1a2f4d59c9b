"""Telegram tells the bot when a user blocks or unblocks it (`my_chat_member` in their
private chat). A blocked user is marked, so nothing more is queued or attempted for them
(broadcasts record them as blocked); unblocking makes them reachable again."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from services import broadcasts

GONE = {ChatMemberStatus.KICKED, ChatMemberStatus.LEFT}


async def membership(event: ChatMemberUpdated, session: AsyncSession, user: User) -> None:
    await broadcasts.mark_blocked(session, user, event.new_chat_member.status in GONE)


def router() -> Router:
    r = Router(name="chat_member")
    r.my_chat_member.register(membership, F.chat.type == "private")
    return r
