"""The organiser files photos of the activity with its record."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.access import managed
from handlers.activities.states import ActivityPhotos
from handlers.common import Media, collect_photo, reply
from models import Activity, User
from services import activities
from services.errors import DomainError
from services.people import Roles
from views.activities import Act, ActivityAction
from views.menu import BTN_PHOTOS_DONE, OLD_PHOTOS_DONE, choices_keyboard, main_menu


async def ask_photos(query: CallbackQuery, state: FSMContext, activity: Activity) -> None:
    await query.answer()
    await state.set_state(ActivityPhotos.photos)
    await state.update_data(activity_id=activity.id, photos=[])
    await reply(
        query,
        _("Send photos of «{title}». Tap «✅ Photos done» when all are sent.").format(
            title=activity.title
        ),
        choices_keyboard([str(BTN_PHOTOS_DONE)], back=False),
    )


async def got_photo(message: Message, state: FSMContext, bot: Bot, media: Media) -> None:
    await collect_photo(message, state, bot, media, activities.MAX_PHOTOS)


async def photos_done(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    data = await state.get_data()
    if not data.get("photos"):
        await message.answer(_("Please send at least one photo first."))
        return
    await state.clear()
    try:
        added = await activities.add_photos(
            session, data["activity_id"], user, roles, [tuple(p) for p in data["photos"]]
        )
    except DomainError as exc:  # the form is over: the refusal comes with the menu back
        await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
        return
    await message.answer(
        _("{n} photo(s) filed with the activity's record.").format(n=added),
        reply_markup=main_menu(roles),
    )


async def wrong_photo_input(message: Message) -> None:
    await message.answer(_("Please send a photo, or tap «✅ Photos done» when all are sent."))


def router() -> Router:
    r = Router(name="activities.photos")
    r.callback_query.register(ask_photos, ActivityAction.filter(F.action == Act.PHOTOS), managed)
    r.message.register(got_photo, ActivityPhotos.photos, F.photo)
    r.message.register(photos_done, ActivityPhotos.photos, F.text == BTN_PHOTOS_DONE)
    r.message.register(photos_done, ActivityPhotos.photos, F.text == OLD_PHOTOS_DONE)
    r.message.register(wrong_photo_input, ActivityPhotos.photos)
    return r
