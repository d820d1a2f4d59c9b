"""What is needed: a few words, a voice message, or a photo with a caption."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Media, Settings, photo_need, too_long, voice_need
from handlers.ordering.flow import advance, asks, enter
from handlers.ordering.states import OrderForm
from handlers.ordering.when import as_soon_as_possible
from views.menu import BTN_BACK, choices_keyboard
from views.order_form import BTN_NO_NOTE, BTN_NO_NOTE_ASAP, need_choices

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
        reply_markup=choices_keyboard(need_choices(), columns=1),
    )


async def no_note_asap(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    """The service says it all, as soon as possible, at home: straight to the summary."""
    await state.update_data(description="", attachments=[])
    await as_soon_as_possible(state, settings)  # and the place: home, unless one was given
    await state.update_data(editing=False)
    await enter(message, state, session, OrderForm.confirm)


async def no_note(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await state.update_data(description="", attachments=[])
    await advance(message, state, session, OrderForm.description)


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
    description, attachments = voice_need(message)
    await state.update_data(description=description, attachments=attachments)
    await advance(message, state, session, OrderForm.description)


async def got_photo(
    message: Message, state: FSMContext, session: AsyncSession, bot: Bot, media: Media
) -> None:
    got = await photo_need(message, DESCRIPTION_MAX)
    if got is None:
        return
    await state.update_data(description=got[0], attachments=got[1])
    await advance(message, state, session, OrderForm.description)


def router() -> Router:
    r = Router(name="ordering.need")
    r.message.register(no_note_asap, OrderForm.description, F.text == BTN_NO_NOTE_ASAP)
    r.message.register(no_note, OrderForm.description, F.text == BTN_NO_NOTE)
    r.message.register(got_text, OrderForm.description, F.text, F.text != BTN_BACK)
    r.message.register(got_voice, OrderForm.description, F.voice)
    r.message.register(got_photo, OrderForm.description, F.photo)
    return r
