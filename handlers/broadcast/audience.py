"""Who gets the notice: everyone, the volunteers, party members, station heads, some
villages (a station head: always their own), or one team."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcast.states import NoticeForm, Turn, advance, asks
from handlers.common import Settings
from services import broadcasts
from services.broadcasts import AudienceKind
from services.people import Roles
from views.broadcasts import (
    PickAudience,
    PickTeam,
    ToggleVillage,
    VillagesChosen,
    audience_keyboard,
    teams_keyboard,
    villages_keyboard,
)


@asks(NoticeForm.audience)
async def ask_audience(turn: Turn) -> None:
    await turn.show(_("Who should get it?"), audience_keyboard())


async def audience_chosen(
    query: CallbackQuery,
    callback_data: PickAudience,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    await query.answer()
    kind = callback_data.kind
    await state.update_data(kind=kind.value)
    if kind not in (AudienceKind.STATIONS, AudienceKind.TEAM):
        await state.update_data(audience={"kind": kind.value, "ids": []})
    if isinstance(query.message, Message):
        turn = Turn(query.message, state, session, roles, settings, edit=True)
        await advance(NoticeForm.audience, turn)


@asks(NoticeForm.villages)
async def ask_villages(turn: Turn) -> None:
    data = await turn.state.get_data()
    stations = await broadcasts.stations_for(turn.session, turn.roles, data["town_id"])
    chosen = set(data.get("village_ids", []))
    if len(stations) == 1 and not chosen:
        chosen = {stations[0].id}
        await turn.state.update_data(village_ids=[stations[0].id])
    await turn.show(
        _("Which villages? Tap to choose one or more, then «Next»."),
        villages_keyboard(stations, chosen),
    )


async def village_toggled(
    query: CallbackQuery,
    callback_data: ToggleVillage,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    data = await state.get_data()
    stations = await broadcasts.stations_for(session, roles, data["town_id"])
    if callback_data.station_id not in {s.id for s in stations}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    chosen = set(data.get("village_ids", [])) ^ {callback_data.station_id}
    await state.update_data(village_ids=sorted(chosen))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=villages_keyboard(stations, chosen))


async def villages_done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    ids = (await state.get_data()).get("village_ids") or []
    if not ids:
        await query.answer(_("Please choose at least one village."), show_alert=True)
        return
    await query.answer()
    await state.update_data(audience={"kind": "stations", "ids": ids})
    if isinstance(query.message, Message):
        turn = Turn(query.message, state, session, roles, settings, edit=True)
        await advance(NoticeForm.villages, turn)


@asks(NoticeForm.team)
async def ask_team(turn: Turn) -> None:
    town_id = (await turn.state.get_data())["town_id"]
    teams = await broadcasts.teams_in(turn.session, town_id)
    await turn.show(_("Which team?"), teams_keyboard(teams))


async def team_chosen(
    query: CallbackQuery,
    callback_data: PickTeam,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    town_id = (await state.get_data())["town_id"]
    if callback_data.team_id not in {t.id for t in await broadcasts.teams_in(session, town_id)}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await state.update_data(audience={"kind": "team", "ids": [callback_data.team_id]})
    if isinstance(query.message, Message):
        turn = Turn(query.message, state, session, roles, settings, edit=True)
        await advance(NoticeForm.team, turn)


def router() -> Router:
    r = Router(name="broadcast.audience")
    r.callback_query.register(audience_chosen, NoticeForm.audience, PickAudience.filter())
    r.callback_query.register(village_toggled, NoticeForm.villages, ToggleVillage.filter())
    r.callback_query.register(villages_done, NoticeForm.villages, VillagesChosen.filter())
    r.callback_query.register(team_chosen, NoticeForm.team, PickTeam.filter())
    return r
