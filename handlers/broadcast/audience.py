"""Who gets the notice: everyone, the volunteers, party members, station heads, some
villages (a station head: always their own), or one team."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.broadcast.states import NoticeForm, Turn, asks, with_turn
from models import Region, Team
from services import broadcasts
from services.broadcasts import AudienceKind
from views.broadcasts import (
    PickAudience,
    PickTeam,
    ToggleVillage,
    VillagesChosen,
    teams_keyboard,
    villages_keyboard,
)


async def audience_chosen(query: CallbackQuery, callback_data: PickAudience, turn: Turn) -> None:
    await query.answer()
    kind = callback_data.kind
    await turn.state.update_data(kind=kind.value)
    if kind not in (AudienceKind.STATIONS, AudienceKind.TEAM):
        await turn.state.update_data(audience={"kind": kind.value, "ids": []})
    await turn.go_on(NoticeForm.audience)


async def _stations(turn: Turn) -> list[Region]:
    town_id = (await turn.state.get_data())["town_id"]
    return await broadcasts.stations_for(turn.session, turn.roles, town_id)


@asks(NoticeForm.villages)
async def ask_villages(turn: Turn) -> None:
    stations = await _stations(turn)
    chosen = set((await turn.state.get_data()).get("village_ids", []))
    if len(stations) == 1 and not chosen:
        chosen = {stations[0].id}
        await turn.state.update_data(village_ids=[stations[0].id])
    await turn.show(
        _("Which villages? Tap to choose one or more, then «Next»."),
        villages_keyboard(stations, chosen),
    )


async def village_toggled(query: CallbackQuery, callback_data: ToggleVillage, turn: Turn) -> None:
    stations = await _stations(turn)
    if callback_data.station_id not in {s.id for s in stations}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    chosen = set((await turn.state.get_data()).get("village_ids", [])) ^ {callback_data.station_id}
    await turn.state.update_data(village_ids=sorted(chosen))
    await turn.message.edit_reply_markup(reply_markup=villages_keyboard(stations, chosen))


async def villages_done(query: CallbackQuery, turn: Turn) -> None:
    ids = (await turn.state.get_data()).get("village_ids") or []
    if not ids:
        await query.answer(_("Please choose at least one village."), show_alert=True)
        return
    await query.answer()
    await turn.go_on(NoticeForm.villages, audience={"kind": "stations", "ids": ids})


async def _teams(turn: Turn) -> list[Team]:
    return await broadcasts.teams_in(turn.session, (await turn.state.get_data())["town_id"])


@asks(NoticeForm.team)
async def ask_team(turn: Turn) -> None:
    await turn.show(_("Which team?"), teams_keyboard(await _teams(turn)))


async def team_chosen(query: CallbackQuery, callback_data: PickTeam, turn: Turn) -> None:
    if callback_data.team_id not in {t.id for t in await _teams(turn)}:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await turn.go_on(NoticeForm.team, audience={"kind": "team", "ids": [callback_data.team_id]})


def router() -> Router:
    r = Router(name="broadcast.audience")
    r.callback_query.register(
        audience_chosen, NoticeForm.audience, PickAudience.filter(), with_turn
    )
    r.callback_query.register(
        village_toggled, NoticeForm.villages, ToggleVillage.filter(), with_turn
    )
    r.callback_query.register(
        villages_done, NoticeForm.villages, VillagesChosen.filter(), with_turn
    )
    r.callback_query.register(team_chosen, NoticeForm.team, PickTeam.filter(), with_turn)
    return r
