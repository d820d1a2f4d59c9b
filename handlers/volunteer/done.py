"""Record a task done: photos → hours of each volunteer who went → a note (see states.py)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.parsing import parse_hours
from handlers.common import Media, collect_photo, finished, step_after, too_long
from handlers.volunteer.states import STEPS, Completion
from models import User
from services import orders
from services.context import Ctx
from services.people import Roles
from views.menu import (
    BTN_CANCEL,
    BTN_PHOTOS_DONE,
    BTN_SKIP,
    OLD_PHOTOS_DONE,
    choices_keyboard,
    main_menu,
)
from views.orders import OrderAction

NOTE_MAX = 500
HOUR_CHOICES = ["0.5", "1", "1.5", "2", "3", "4"]


async def ask(message: Message, state: FSMContext, step: State) -> None:
    """Go to `step` and ask its question; the hours step asks once per volunteer."""
    await state.set_state(step)
    if step == Completion.photos:
        await message.answer(
            _(
                "Please send 1 to {n} photos of the service. Tap «✅ Photos done» when all are "
                "sent."
            ).format(n=orders.MAX_PHOTOS),
            reply_markup=choices_keyboard([str(BTN_PHOTOS_DONE)], back=False),
        )
    elif step == Completion.hours:
        data = await state.get_data()
        pending = [uid for uid in data["ask"] if str(uid) not in data["hours"]]
        if not pending:
            await _next(message, state, step)
            return
        name = data.get("names", {}).get(str(pending[0])) or "?"
        await message.answer(
            _("How many hours did {name} serve? (e.g. 1.5)").format(name=name),
            reply_markup=choices_keyboard(HOUR_CHOICES, columns=3, back=False),
        )
    else:
        await message.answer(
            _("A short note about the service (or tap «Skip»)."),
            reply_markup=choices_keyboard([str(BTN_SKIP)], back=False),
        )


async def _next(message: Message, state: FSMContext, step: State) -> None:
    following = step_after(STEPS, step)
    if following is not None:
        await ask(message, state, following)


async def done(
    query: CallbackQuery,
    callback_data: OrderAction,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    order = await orders.may_complete(session, callback_data.order_id, user, roles)
    await query.answer()
    card_id = query.message.message_id if isinstance(query.message, Message) else None
    await state.update_data(order_id=order.id, photos=[], card_id=card_id)
    if isinstance(query.message, Message):
        await ask(query.message, state, STEPS[0])


async def got_photo(message: Message, state: FSMContext, bot: Bot, media: Media) -> None:
    await collect_photo(message, state, bot, media, orders.MAX_PHOTOS)


async def photos_done(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    if not data.get("photos"):
        await message.answer(_("Please send at least one photo first."))
        return
    sent = await orders.sent_volunteers(session, data["order_id"])
    names = {str(u.id): u.name for u in sent}
    await state.update_data(hours={}, ask=[u.id for u in sent], names=names)
    await _next(message, state, Completion.photos)


async def got_hours(message: Message, state: FSMContext) -> None:
    hours = parse_hours(message.text)
    if hours is None:
        await message.answer(_("Please give a number of hours between 0.5 and 24."))
        return
    data = await state.get_data()
    pending = [uid for uid in data["ask"] if str(uid) not in data["hours"]]
    data["hours"][str(pending[0])] = str(hours)
    await state.update_data(hours=data["hours"])
    await ask(message, state, Completion.hours)


async def got_note(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles, ctx: Ctx
) -> None:
    note = "" if message.text == BTN_SKIP else (message.text or "").strip()
    if await too_long(message, note, NOTE_MAX):
        return
    data = await finished(state)
    await orders.complete(
        session,
        ctx,
        data["order_id"],
        user,
        roles,
        photos=[tuple(p) for p in data["photos"]],
        hours={int(k): Decimal(v) for k, v in data["hours"].items()},
        note=note,
    )
    await message.answer(
        _("Thank you! It is recorded as done. The resident will be asked to rate it."),
        reply_markup=main_menu(roles),  # not the last step's «Skip | Cancel»
    )
    if data.get("card_id") and message.bot is not None:  # the task's buttons are spent
        with contextlib.suppress(TelegramBadRequest):  # deleted or too old: no matter
            await message.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=data["card_id"], reply_markup=None
            )


async def unexpected(message: Message, state: FSMContext) -> None:
    """An answer the step did not ask for: say again what it wants."""
    step = await state.get_state()
    if step == Completion.photos.state:
        await message.answer(_("Please send a photo, or tap «✅ Photos done» when all are sent."))
    elif step == Completion.hours.state:
        await message.answer(_("Please give a number of hours between 0.5 and 24."))
    else:
        await ask(message, state, Completion.note)


def router() -> Router:
    r = Router(name="volunteer.done")
    r.callback_query.register(done, OrderAction.filter(F.action == "done"))
    r.message.register(got_photo, Completion.photos, F.photo)
    r.message.register(photos_done, Completion.photos, F.text == BTN_PHOTOS_DONE)
    r.message.register(photos_done, Completion.photos, F.text == OLD_PHOTOS_DONE)
    r.message.register(got_hours, Completion.hours, F.text, F.text != BTN_CANCEL)
    r.message.register(got_note, Completion.note, F.text, F.text != BTN_CANCEL)
    for step in STEPS:
        r.message.register(unexpected, step)
    return r
