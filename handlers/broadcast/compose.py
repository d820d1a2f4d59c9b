"""The notice itself: a text, or a photo with the text as its caption."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import NoticeForm, Turn, advance, asks
from handlers.common import Settings, too_long
from services import broadcasts
from services.people import Roles
from views.menu import BTN_BACK, BTN_CANCEL, choices_keyboard


@asks(NoticeForm.text)
async def ask_text(turn: Turn) -> None:
    await turn.message.answer(
        _("Write the notice. You can also send a photo with the text as its caption."),
        reply_markup=choices_keyboard([]),
    )


async def got_photo(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles, settings: Settings
) -> None:
    caption = (message.caption or "").strip()
    if await too_long(message, caption, broadcasts.MAX_CAPTION):
        return
    assert message.photo
    await state.update_data(text=caption, photo=message.photo[-1].file_id)
    await advance(NoticeForm.text, Turn(message, state, session, roles, settings))


async def got_text(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles, settings: Settings
) -> None:
    text = (message.text or "").strip()
    if await too_long(message, text, broadcasts.MAX_TEXT):
        return
    await state.update_data(text=text, photo=None)
    await advance(NoticeForm.text, Turn(message, state, session, roles, settings))


def router() -> Router:
    r = Router(name="broadcast.compose")
    r.message.register(got_photo, NoticeForm.text, F.photo)
    r.message.register(got_text, NoticeForm.text, F.text, F.text != BTN_CANCEL, F.text != BTN_BACK)
    return r
