"""The notice itself: a text, or a photo with the text as its caption."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, asks, with_turn
from handlers.common import too_long
from services import broadcasts
from views.menu import BTN_BACK, BTN_CANCEL, choices_keyboard


@asks(NoticeForm.text)
async def ask_text(turn: Turn) -> None:
    await turn.message.answer(
        _("Write the notice. You can also send a photo with the text as its caption."),
        reply_markup=choices_keyboard([]),
    )


async def got_photo(message: Message, turn: Turn) -> None:
    caption = (message.caption or "").strip()
    if await too_long(message, caption, broadcasts.MAX_CAPTION):
        return
    assert message.photo
    await turn.go_on(NoticeForm.text, text=caption, photo=message.photo[-1].file_id)


async def got_text(message: Message, turn: Turn) -> None:
    text = (message.text or "").strip()
    if await too_long(message, text, broadcasts.MAX_TEXT):
        return
    await turn.go_on(NoticeForm.text, text=text, photo=None)


def router() -> Router:
    r = Router(name="broadcast.compose")
    r.message.register(got_photo, NoticeForm.text, F.photo, with_turn)
    r.message.register(
        got_text, NoticeForm.text, F.text, F.text != BTN_CANCEL, F.text != BTN_BACK, with_turn
    )
    return r
