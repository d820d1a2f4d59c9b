"""Placing an order: area → category → what is needed → when → where → confirm.

Also used by station staff ordering on behalf of a resident without a smartphone: they
first give the resident's name, phone and village, then walk the same steps.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, KeyboardButton, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.media import save_attachment
from bot.settings import Settings
from handlers.common import too_long
from models import Region, ServiceArea, ServiceCategory, Slot, User, utcnow
from services import orders
from services.errors import DomainError
from services.i18n import local_name
from services.org import categories_in_area, service_areas, station_choices
from services.people import Roles
from views.format import locale, slot_label
from views.menu import (
    BTN_BACK,
    BTN_CANCEL,
    BTN_ORDER,
    BTN_PROXY_ORDER,
    Pick,
    choices_keyboard,
    main_menu,
)

DESCRIPTION_MAX = 1000
ADDRESS_MAX = 200
NAME_MAX = 32


class OrderForm(StatesGroup):
    area = State()
    category = State()
    description = State()
    day = State()
    pick_day = State()
    slot = State()
    place = State()
    confirm = State()


class ProxyForm(StatesGroup):
    name = State()
    phone = State()
    village = State()


def _days_ahead(today: date, n: int) -> list[date]:
    return [today + timedelta(days=i) for i in range(n)]


def _day_label(day: date) -> str:
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    return f"{day.month}/{day.day} {weekdays[day.weekday()]}"


def router() -> Router:
    r = Router(name="ordering")

    # --- entry --------------------------------------------------------------------------
    @r.message(Command("order"))
    @r.message(F.text == BTN_ORDER)
    async def begin(message: Message, state: FSMContext, session: AsyncSession, user: User) -> None:
        if not user.registered or user.station_id is None:
            await message.answer(_("Please send /start first, so we know your village."))
            return
        await state.clear()
        await state.update_data(
            resident_id=user.id, station_id=user.station_id, token=secrets.token_hex(8)
        )
        await _ask_area(message, state, session, user.town_id)

    @r.message(F.text == BTN_PROXY_ORDER)
    async def begin_proxy(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        if not await _proxy_stations(session, roles):
            await message.answer(_("Only station staff can order for a resident."))
            return
        await state.clear()
        await state.update_data(token=secrets.token_hex(8))
        await state.set_state(ProxyForm.name)
        await message.answer(
            _("Ordering for a resident. What is the resident's name?"),
            reply_markup=choices_keyboard([], back=False),
        )

    # --- proxy: who is it for -------------------------------------------------------------
    @r.message(ProxyForm.name, F.text, F.text != BTN_BACK)
    async def proxy_name(message: Message, state: FSMContext) -> None:
        name = (message.text or "").strip()
        if not name or len(name) > NAME_MAX:
            await message.answer(
                _("Please write the name in at most {n} characters.").format(n=NAME_MAX)
            )
            return
        await state.update_data(proxy_name=name)
        await state.set_state(ProxyForm.phone)
        await message.answer(
            _("The resident's phone number (digits), or tap «Back»."),
            reply_markup=choices_keyboard([], back=True),
        )

    @r.message(ProxyForm.phone, F.text, F.text != BTN_BACK)
    async def proxy_phone(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        phone = "".join(ch for ch in (message.text or "") if ch.isdigit() or ch == "+")
        if not 5 <= len(phone) <= 20:
            await message.answer(_("That does not look like a phone number. Digits only, please."))
            return
        await state.update_data(proxy_phone=phone)
        await state.set_state(ProxyForm.village)
        stations = await _proxy_stations(session, roles)
        await message.answer(
            _("Which village does the resident live in?"),
            reply_markup=choices_keyboard([local_name(s, locale()) for s in stations]),
        )

    @r.message(ProxyForm.village, F.text, F.text != BTN_BACK)
    async def proxy_village(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        stations = {local_name(s, locale()): s for s in await _proxy_stations(session, roles)}
        station = stations.get(message.text or "")
        if station is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        data = await state.get_data()
        resident = await orders.create_proxy_resident(
            session,
            name=data["proxy_name"],
            phone=data["proxy_phone"],
            station_id=station.id,
            placed_by=user,
            roles=roles,
        )
        await session.commit()
        await state.update_data(resident_id=resident.id, station_id=station.id, proxy=True)
        await _ask_area(message, state, session, station.parent_id)

    # --- service ----------------------------------------------------------------------------
    async def _ask_area(
        message: Message, state: FSMContext, session: AsyncSession, town_id: int | None
    ) -> None:
        areas = await service_areas(session, town_id)
        await state.update_data(town_id=town_id)
        await state.set_state(OrderForm.area)
        await message.answer(
            _("What kind of help do you need?"),
            reply_markup=choices_keyboard([local_name(a, locale()) for a in areas], back=False),
        )

    @r.message(OrderForm.area, F.text, F.text != BTN_BACK)
    async def got_area(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        areas = {local_name(a, locale()): a for a in await service_areas(session, data["town_id"])}
        area = areas.get(message.text or "")
        if area is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(area_id=area.id)
        await _ask_category(message, state, session, area)

    async def _ask_category(
        message: Message, state: FSMContext, session: AsyncSession, area: ServiceArea
    ) -> None:
        cats = await categories_in_area(session, area.id)
        await state.set_state(OrderForm.category)
        await message.answer(
            _("Which of these?"),
            reply_markup=choices_keyboard([local_name(c, locale()) for c in cats]),
        )

    @r.message(OrderForm.category, F.text, F.text != BTN_BACK)
    async def got_category(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        cats = {
            local_name(c, locale()): c for c in await categories_in_area(session, data["area_id"])
        }
        cat = cats.get(message.text or "")
        if cat is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(category_id=cat.id)
        await _next(message, state, session, OrderForm.description)

    # --- what is needed -------------------------------------------------------------------
    async def _ask_description(message: Message) -> None:
        await message.answer(
            _(
                "Tell us what you need, in a few words. You can also send a voice message, "
                "or a photo with a caption."
            ),
            reply_markup=choices_keyboard([]),
        )

    @r.message(OrderForm.description, F.text, F.text != BTN_BACK)
    async def got_text(message: Message, state: FSMContext, session: AsyncSession) -> None:
        text = (message.text or "").strip()
        if await too_long(message, text, DESCRIPTION_MAX):
            return
        if not text:
            await _ask_description(message)
            return
        await state.update_data(description=text)
        await _next(message, state, session, OrderForm.day)

    @r.message(OrderForm.description, F.voice)
    async def got_voice(
        message: Message, state: FSMContext, session: AsyncSession, bot: Bot, settings: Settings
    ) -> None:
        assert message.voice is not None
        path = await save_attachment(
            bot, settings.media_dir, message.voice.file_id, message.voice.file_unique_id, "ogg"
        )
        await state.update_data(
            description=_("(voice message)"),
            attachments=[("voice", message.voice.file_id, message.voice.file_unique_id, path)],
        )
        await _next(message, state, session, OrderForm.day)

    @r.message(OrderForm.description, F.photo)
    async def got_photo(
        message: Message, state: FSMContext, session: AsyncSession, bot: Bot, settings: Settings
    ) -> None:
        caption = (message.caption or "").strip()
        if await too_long(message, caption, DESCRIPTION_MAX):
            return
        photo = (message.photo or [])[-1]
        path = await save_attachment(
            bot, settings.media_dir, photo.file_id, photo.file_unique_id, "jpg"
        )
        await state.update_data(
            description=caption or _("(see photo)"),
            attachments=[("photo", photo.file_id, photo.file_unique_id, path)],
        )
        await _next(message, state, session, OrderForm.day)

    # --- when ---------------------------------------------------------------------------------
    async def _ask_day(message: Message) -> None:
        await message.answer(
            _("When would suit you?"),
            reply_markup=choices_keyboard(
                [_("Today"), _("Tomorrow"), _("This week"), _("Pick a date")]
            ),
        )

    @r.message(OrderForm.day, F.text, F.text != BTN_BACK)
    async def got_day(
        message: Message, state: FSMContext, session: AsyncSession, settings: Settings
    ) -> None:
        today = _today(settings)
        choice = message.text
        if choice == _("Pick a date"):
            await state.set_state(OrderForm.pick_day)
            await message.answer(
                _("Pick a date:"),
                reply_markup=choices_keyboard(
                    [_day_label(d) for d in _days_ahead(today, 14)], columns=3
                ),
            )
            return
        days = {_("Today"): today, _("Tomorrow"): today + timedelta(days=1), _("This week"): None}
        if choice not in days:
            await message.answer(_("Please tap one of the buttons below."))
            return
        picked = days[choice]
        await state.update_data(
            day=picked.isoformat() if picked else None, this_week=picked is None
        )
        await _next(message, state, session, OrderForm.slot)

    @r.message(OrderForm.pick_day, F.text, F.text != BTN_BACK)
    async def got_date(
        message: Message, state: FSMContext, session: AsyncSession, settings: Settings
    ) -> None:
        labels = {_day_label(d): d for d in _days_ahead(_today(settings), 14)}
        picked = labels.get(message.text or "")
        if picked is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(day=picked.isoformat(), this_week=False)
        await _next(message, state, session, OrderForm.slot)

    async def _ask_slot(message: Message) -> None:
        await message.answer(
            _("Morning or afternoon?"),
            reply_markup=choices_keyboard(
                [slot_label(s) for s in (Slot.MORNING, Slot.AFTERNOON, Slot.ANY)], columns=3
            ),
        )

    @r.message(OrderForm.slot, F.text, F.text != BTN_BACK)
    async def got_slot(message: Message, state: FSMContext, session: AsyncSession) -> None:
        slots = {slot_label(s): s for s in Slot}
        slot = slots.get(message.text or "")
        if slot is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(slot=slot.value)
        await _next(message, state, session, OrderForm.place)

    # --- where ----------------------------------------------------------------------------
    async def _ask_place(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        station = await session.get(Region, data["station_id"])
        kb = ReplyKeyboardBuilder()
        kb.button(
            text=_("🏠 At home in {village}").format(
                village=local_name(station, locale()) if station else ""
            )
        )
        kb.button(text=_("📍 Share my location"), request_location=True)
        kb.adjust(1)
        kb.row(KeyboardButton(text=str(BTN_BACK)), KeyboardButton(text=str(BTN_CANCEL)))
        await message.answer(
            _("Where should the volunteers come? Tap a button, or write the address."),
            reply_markup=kb.as_markup(resize_keyboard=True),
        )

    @r.message(OrderForm.place, F.location)
    async def got_location(message: Message, state: FSMContext, session: AsyncSession) -> None:
        assert message.location is not None
        await state.update_data(
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            address=_("(shared location)"),
        )
        await _next(message, state, session, OrderForm.confirm)

    @r.message(OrderForm.place, F.text, F.text != BTN_BACK)
    async def got_address(message: Message, state: FSMContext, session: AsyncSession) -> None:
        text = (message.text or "").strip()
        if await too_long(message, text, ADDRESS_MAX):
            return
        home = text.startswith("🏠")
        await state.update_data(address=None if home else text, latitude=None, longitude=None)
        await _next(message, state, session, OrderForm.confirm)

    # --- summary and confirm ----------------------------------------------------------------
    async def _summary(message: Message, state: FSMContext, session: AsyncSession) -> None:
        data = await state.get_data()
        cat = await session.get(ServiceCategory, data["category_id"])
        station = await session.get(Region, data["station_id"])
        when = (
            _("this week") if data.get("this_week") else _day_label(date.fromisoformat(data["day"]))
        )
        lines = [
            _("Please check your request:"),
            _("Service: {name}").format(name=local_name(cat, locale()) if cat else "?"),
            _("Need: {text}").format(text=data.get("description", "")),
            _("When: {day}, {slot}").format(day=when, slot=slot_label(Slot(data["slot"]))),
            _("Where: {place}").format(
                place=data.get("address") or (local_name(station, locale()) if station else "")
            ),
        ]
        if data.get("proxy"):
            lines.append(_("For: {name}").format(name=data.get("proxy_name", "")))
        kb = InlineKeyboardBuilder()
        kb.button(text=_("✅ Confirm"), callback_data=Pick(what="confirm", value=data["token"]))
        kb.button(text=_("✏ Edit"), callback_data=Pick(what="edit", value=data["token"]))
        kb.button(text=_("✖ Cancel"), callback_data=Pick(what="drop", value=data["token"]))
        kb.adjust(1)
        await message.answer(_("Almost done."), reply_markup=choices_keyboard([], back=True))
        await message.answer("\n".join(lines), reply_markup=kb.as_markup())

    @r.callback_query(OrderForm.confirm, Pick.filter(F.what == "confirm"))
    async def confirm(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
    ) -> None:
        data = await state.get_data()
        if callback_data.value != data.get("token"):
            await _stale(query)
            return
        await query.answer()  # before the slow part: the phone spins until it is answered
        day = date.fromisoformat(data["day"]) if data.get("day") else None
        try:
            order = await orders.create_order(
                session,
                resident=await session.get(User, data["resident_id"]),
                placed_by=user,
                roles=roles,
                category_id=data["category_id"],
                description=data.get("description", ""),
                preferred_date=day,
                preferred_slot=Slot(data["slot"]),
                address=data.get("address"),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                attachments=[tuple(a) for a in data.get("attachments", [])],
                client_token=data["token"],
                max_open=settings.max_open_orders,
            )
        except DomainError as exc:
            await state.clear()
            await _reply(query, _(exc.message).format(**exc.params), roles)
            return
        await state.clear()
        await _received(query, order.number, roles)

    @r.callback_query(OrderForm.confirm, Pick.filter(F.what == "edit"))
    async def edit(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
        data = await state.get_data()
        if callback_data.value != data.get("token"):
            await _stale(query)
            return
        await query.answer()
        kb = InlineKeyboardBuilder()
        for what, label in (
            ("category", _("Service")),
            ("description", _("What is needed")),
            ("day", _("Time")),
            ("place", _("Place")),
        ):
            kb.button(text=label, callback_data=Pick(what="edit_" + what, value=data["token"]))
        kb.adjust(2)
        if isinstance(query.message, Message):
            await query.message.answer(
                _("What would you like to change?"), reply_markup=kb.as_markup()
            )

    @r.callback_query(OrderForm.confirm, Pick.filter(F.what.startswith("edit_")))
    async def edit_part(
        query: CallbackQuery, callback_data: Pick, state: FSMContext, session: AsyncSession
    ) -> None:
        data = await state.get_data()
        if callback_data.value != data.get("token") or not isinstance(query.message, Message):
            await _stale(query)
            return
        await query.answer()
        await state.update_data(editing=True)
        part = callback_data.what.removeprefix("edit_")
        if part == "category":
            area = await session.get(ServiceArea, data["area_id"])
            if area is not None:
                await _ask_category(query.message, state, session, area)
            return
        targets = {
            "description": OrderForm.description,
            "day": OrderForm.day,
            "place": OrderForm.place,
        }
        await _enter(query.message, state, session, targets.get(part, OrderForm.description))

    @r.callback_query(OrderForm.confirm, Pick.filter(F.what == "drop"))
    async def drop(query: CallbackQuery, state: FSMContext, roles: Roles) -> None:
        await query.answer()
        await state.clear()
        await _reply(query, _("Cancelled. Nothing was sent."), roles)

    @r.callback_query(Pick.filter(F.what == "confirm"))
    async def confirm_again(
        query: CallbackQuery, callback_data: Pick, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        # Confirm pressed again with the conversation gone: a crash (or restart) between
        # creating the order and saying so, or a double tap. Tell the number of the order this
        # summary made, else the resident orders a second time for one request.
        order = await orders.placed_with_token(session, callback_data.value, user.id)
        if order is None:
            await _stale(query)
            return
        await query.answer()
        await _received(query, order.number, roles)

    @r.callback_query(Pick.filter(F.what.in_({"confirm", "edit", "drop"})))
    @r.callback_query(Pick.filter(F.what.startswith("edit_")))
    async def stale_summary(query: CallbackQuery) -> None:
        # A summary button from a finished or abandoned conversation (double tap included).
        await _stale(query)

    # --- moving between steps -------------------------------------------------------------
    async def _enter(
        message: Message, state: FSMContext, session: AsyncSession, step: State
    ) -> None:
        await state.set_state(step)
        if step == OrderForm.description:
            await _ask_description(message)
        elif step == OrderForm.day:
            await _ask_day(message)
        elif step == OrderForm.slot:
            await _ask_slot(message)
        elif step == OrderForm.place:
            await _ask_place(message, state, session)
        elif step == OrderForm.confirm:
            await _summary(message, state, session)

    async def _next(
        message: Message, state: FSMContext, session: AsyncSession, step: State
    ) -> None:
        # While editing one part, the next step after it is the summary again.
        data = await state.get_data()
        if data.get("editing") and step != OrderForm.slot:
            await state.update_data(editing=False)
            step = OrderForm.confirm
        await _enter(message, state, session, step)

    @r.message(StateFilter(OrderForm, ProxyForm), F.text == BTN_BACK)
    async def back(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        current = await state.get_state()
        data = await state.get_data()
        previous = {
            OrderForm.category.state: OrderForm.area,
            OrderForm.description.state: OrderForm.category,
            OrderForm.day.state: OrderForm.description,
            OrderForm.pick_day.state: OrderForm.day,
            OrderForm.slot.state: OrderForm.day,
            OrderForm.place.state: OrderForm.slot,
            OrderForm.confirm.state: OrderForm.place,
            ProxyForm.phone.state: ProxyForm.name,
            ProxyForm.village.state: ProxyForm.phone,
        }.get(current or "")
        if previous is None:
            await state.clear()
            await message.answer(_("Cancelled. Nothing was sent."), reply_markup=main_menu(roles))
        elif previous == OrderForm.area:
            await _ask_area(message, state, session, data.get("town_id"))
        elif previous == OrderForm.category:
            area = await session.get(ServiceArea, data["area_id"])
            if area is not None:
                await _ask_category(message, state, session, area)
        elif previous in (ProxyForm.name, ProxyForm.phone):
            await state.set_state(previous)
            await message.answer(
                _("The resident's name?")
                if previous == ProxyForm.name
                else _("The resident's phone number (digits), or tap «Back».")
            )
        else:
            await _enter(message, state, session, previous)

    @r.message(StateFilter(OrderForm, ProxyForm))
    async def unexpected(message: Message, state: FSMContext) -> None:
        # A sticker, a photo where text was asked, a command out of turn: say so, stay here.
        current = await state.get_state()
        if current == OrderForm.description.state:
            text = _("Please write a few words, send a voice message, or a photo.")
        elif current == OrderForm.place.state:
            text = _("Please tap a button, share your location, or write the address.")
        elif current == OrderForm.confirm.state:
            text = _("Please use the Confirm, Edit or Cancel buttons above.")
        else:
            text = _("Please tap one of the buttons below, or write your answer as text.")
        await message.answer(text)

    return r


async def _proxy_stations(session: AsyncSession, roles: Roles) -> list[Region]:
    allowed = await orders.proxy_station_ids(session, roles)
    return [s for s in await station_choices(session) if s.id in allowed]


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def _received(query: CallbackQuery, number: str, roles: Roles) -> None:
    await _reply(
        query,
        _(
            "Received! Your order number is {number}. The volunteer team will be told now; "
            "you will get a message here when someone accepts it."
        ).format(number=number),
        roles,
    )
    # Only then take the buttons away: killed in between, the resident can still press
    # Confirm again and be told (confirm_again); buttons gone and no number would leave them
    # not knowing their order exists.
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def _reply(query: CallbackQuery, text: str, roles: Roles) -> None:
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=main_menu(roles))
