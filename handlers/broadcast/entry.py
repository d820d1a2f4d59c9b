"""📢 Notices: the menu (new notice, scheduled ones, my notices) and starting a new one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, ask, with_turn
from services import broadcasts
from services.people import Roles
from views.broadcasts import NoticesItem, NoticesMenu, notices_menu_keyboard
from views.menu import BTN_NOTICES


async def notices_menu(message: Message, state: FSMContext, roles: Roles) -> None:
    if not broadcasts.may_compose(roles):
        await message.answer(_("Only the office and station heads can send notices."))
        return
    await state.clear()
    await message.answer(
        _("Notices to residents and volunteers. What would you like to do?"),
        reply_markup=notices_menu_keyboard(),
    )


async def new_notice(query: CallbackQuery, turn: Turn) -> None:
    roles = turn.roles
    towns = await broadcasts.towns_for(turn.session, roles) if broadcasts.may_compose(roles) else []
    if not towns:
        await query.answer(
            _("Only the office and station heads can send notices."), show_alert=True
        )
        return
    await query.answer()
    await turn.state.clear()
    town_id = towns[0].id
    approval = broadcasts.needs_approval(roles, town_id)  # a station head: their own villages
    await turn.state.update_data(
        town_id=town_id, approval=approval, kind="stations" if approval else None
    )
    await ask(NoticeForm.text, turn)


def router() -> Router:
    r = Router(name="broadcast.entry")
    r.message.register(notices_menu, F.text == BTN_NOTICES)
    r.callback_query.register(new_notice, NoticesMenu.filter(F.item == NoticesItem.NEW), with_turn)
    return r
