"""The volunteer's side: start a task, can't make it, and record it done with photos,
hours and a note; the list of my tasks."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.media import save_attachment
from bot.settings import Settings
from handlers.common import too_long
from models import Assignment, AssignmentStatus, Order, User
from services import orders, screens
from services.people import Roles
from views.menu import BTN_CANCEL, BTN_MY_TASKS, BTN_SKIP, choices_keyboard
from views.orders import OrderAction, order_lines, task_keyboard

MAX_PHOTOS = 10
NOTE_MAX = 500
BTN_PHOTOS_DONE = "✅"


class Completion(StatesGroup):
    photos = State()
    hours = State()
    note = State()


async def _served(session: AsyncSession, order_id: int) -> list[User]:
    """Who was sent: the people whose hours we ask for."""
    return list(
        (
            await session.scalars(
                select(User)
                .join(Assignment, Assignment.volunteer_id == User.id)
                .where(
                    Assignment.order_id == order_id, Assignment.status != AssignmentStatus.WITHDRAWN
                )
                .order_by(Assignment.id)
            )
        ).all()
    )


def router() -> Router:
    r = Router(name="volunteer")

    @r.callback_query(OrderAction.filter(F.action == "start"))
    async def start(
        query: CallbackQuery,
        callback_data: OrderAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        order = await orders.start(session, callback_data.order_id, user, roles)
        await query.answer(_("Started. Tap «Done» when the service is finished."))
        if isinstance(query.message, Message):
            lines = [
                _("▶ In progress"),
                *order_lines(await screens.order_facts(session, order), with_phone=True),
            ]
            await query.message.edit_text("\n".join(lines), reply_markup=task_keyboard(order.id))

    @r.callback_query(OrderAction.filter(F.action == "withdraw"))
    async def withdraw(
        query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, user: User
    ) -> None:
        assignment = await session.scalar(
            select(Assignment).where(
                Assignment.order_id == callback_data.order_id, Assignment.volunteer_id == user.id
            )
        )
        if assignment is None:
            await query.answer(_("This is not your task."), show_alert=True)
            return
        await orders.withdraw(session, assignment.id, user)
        await query.answer(_("Understood. Your team leader has been told."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)

    # --- done: photos → hours → note -------------------------------------------------------
    @r.callback_query(OrderAction.filter(F.action == "done"))
    async def done(
        query: CallbackQuery,
        callback_data: OrderAction,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        order = await session.get(Order, callback_data.order_id)
        assigned = order is not None and user.id in {u.id for u in await _served(session, order.id)}
        leads = order is not None and orders.can_handle(roles, order)
        if order is None or not (assigned or leads):
            await query.answer(_("This is not your task."), show_alert=True)
            return
        if order.status.value not in ("accepted", "in_progress"):
            await query.answer(
                _("This order is already {status}.").format(status=order.status.value),
                show_alert=True,
            )
            return
        await query.answer()
        await state.set_state(Completion.photos)
        await state.update_data(order_id=order.id, photos=[])
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Please send 1 to {n} photos of the service. Tap ✅ when all are sent.").format(
                    n=MAX_PHOTOS
                ),
                reply_markup=choices_keyboard([BTN_PHOTOS_DONE], back=False),
            )

    @r.message(Completion.photos, F.photo)
    async def got_photo(message: Message, state: FSMContext, bot: Bot, settings: Settings) -> None:
        data = await state.get_data()
        photos = data.get("photos", [])
        if len(photos) >= MAX_PHOTOS:
            await message.answer(
                _("That is {n} photos already; tap ✅ to go on.").format(n=MAX_PHOTOS)
            )
            return
        photo = (message.photo or [])[-1]
        path = await save_attachment(
            bot, settings.media_dir, photo.file_id, photo.file_unique_id, "jpg"
        )
        photos.append([photo.file_id, photo.file_unique_id, path])
        await state.update_data(photos=photos)
        await message.answer(_("Photo {n} received.").format(n=len(photos)))

    @r.message(Completion.photos, F.text == BTN_PHOTOS_DONE)
    async def photos_done(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        if not data.get("photos"):
            await message.answer(_("Please send at least one photo first."))
            return
        await state.set_state(Completion.hours)
        await state.update_data(
            hours={}, ask=[u.id for u in await _served(session, data["order_id"])]
        )
        await _ask_hours(message, state, session)

    async def _ask_hours(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        pending = [uid for uid in data["ask"] if str(uid) not in data["hours"]]
        if not pending:
            await state.set_state(Completion.note)
            await message.answer(
                _("A short note about the service (or tap «Skip»)."),
                reply_markup=choices_keyboard([str(BTN_SKIP)], back=False),
            )
            return
        person = await session.get(User, pending[0])
        await message.answer(
            _("How many hours did {name} serve? (e.g. 1.5)").format(
                name=person.name if person else "?"
            ),
            reply_markup=choices_keyboard(
                ["0.5", "1", "1.5", "2", "3", "4"], columns=3, back=False
            ),
        )

    @r.message(Completion.hours, F.text, F.text != BTN_CANCEL)
    async def got_hours(message: Message, state: FSMContext, session: AsyncSession) -> None:
        try:
            hours = Decimal((message.text or "").strip().replace(",", "."))
        except InvalidOperation:
            hours = Decimal(-1)
        if not Decimal(0) < hours <= Decimal(24):
            await message.answer(_("Please give a number of hours between 0.5 and 24."))
            return
        data = await state.get_data()
        pending = [uid for uid in data["ask"] if str(uid) not in data["hours"]]
        data["hours"][str(pending[0])] = str(hours)
        await state.update_data(hours=data["hours"])
        await _ask_hours(message, state, session)

    @r.message(Completion.note, F.text, F.text != BTN_CANCEL)
    async def got_note(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        note = "" if message.text == BTN_SKIP else (message.text or "").strip()
        if await too_long(message, note, NOTE_MAX):
            return
        data = await state.get_data()
        await state.clear()
        order = await orders.complete(
            session,
            data["order_id"],
            user,
            roles,
            photos=[tuple(p) for p in data["photos"]],
            hours={int(k): Decimal(v) for k, v in data["hours"].items()},
            note=note,
        )
        await message.answer(
            _(
                "Thank you! Order {number} is recorded as done. The resident "
                "will be asked to rate it."
            ).format(number=order.number),
            reply_markup=None,
        )

    @r.message(Completion.photos)
    @r.message(Completion.hours)
    async def wrong_completion_input(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        if current == Completion.photos.state:
            await message.answer(_("Please send a photo, or tap ✅ when all are sent."))
        else:
            await message.answer(_("Please give a number of hours between 0.5 and 24."))

    @r.message(F.text == BTN_MY_TASKS)
    async def my_tasks(message: Message, session: AsyncSession, user: User) -> None:
        tasks = await orders.volunteer_tasks(session, user.id)
        if not tasks:
            await message.answer(_("You have no open tasks."))
            return
        for _assignment, order in tasks[:10]:
            lines = order_lines(await screens.order_facts(session, order), with_phone=True)
            await message.answer("\n".join(lines), reply_markup=task_keyboard(order.id))

    return r
