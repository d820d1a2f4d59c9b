"""What is needed: a few words, a voice message, or a photo with a caption."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Media, too_long
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from views.menu import BTN_BACK, choices_keyboard

DESCRIPTION_MAX = 1000


@asks(
    OrderForm.description,
    hint=lambda: _("Please write a few words, send a voice message, or a photo."),
)
async def ask_need(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await message.answer(
        _(
            "Tell us what you need, in a few words. You can also send a voice message, "
            "or a photo with a caption."
        ),
        reply_markup=choices_keyboard([]),
    )


async def got_text(message: Message, state: FSMContext, session: AsyncSession) -> None:
    text = (message.text or "").strip()
    if await too_long(message, text, DESCRIPTION_MAX):
        return
    if not text:
        await ask_need(message, state, session)
        return
    await state.update_data(description=text)
    await advance(message, state, session, OrderForm.description)


async def got_voice(
    message: Message, state: FSMContext, session: AsyncSession, bot: Bot, media: Media
) -> None:
    assert message.voice is not None
    voice = message.voice
    path = await media.save(bot, voice.file_id, voice.file_unique_id, "ogg")
    await state.update_data(
        description=_("(voice message)"),
        attachments=[("voice", voice.file_id, voice.file_unique_id, path)],
    )
    await advance(message, state, session, OrderForm.description)


async def got_photo(
    message: Message, state: FSMContext, session: AsyncSession, bot: Bot, media: Media
) -> None:
    caption = (message.caption or "").strip()
    if await too_long(message, caption, DESCRIPTION_MAX):
        return
    photo = (message.photo or [])[-1]
    path = await media.save(bot, photo.file_id, photo.file_unique_id, "jpg")
    await state.update_data(
        description=caption or _("(see photo)"),
        attachments=[("photo", photo.file_id, photo.file_unique_id, path)],
    )
    await advance(message, state, session, OrderForm.description)


def router() -> Router:
    r = Router(name="ordering.need")
    r.message.register(got_text, OrderForm.description, F.text, F.text != BTN_BACK)
    r.message.register(got_voice, OrderForm.description, F.voice)
    r.message.register(got_photo, OrderForm.description, F.photo)
    return r
