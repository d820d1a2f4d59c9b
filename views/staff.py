"""Appointing staff as people see it: the roles, the places, how (a link or a person) and
the people found, each a button with typed callback data."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import Region, Role, Team, User
from services.i18n import local_name
from views.format import ROLE_LABELS, locale
from views.menu import inline_keyboard


class AppointRole(CallbackData, prefix="apr"):
    """Whom to appoint: the role."""

    role: Role


class AppointAt(CallbackData, prefix="apw"):
    """Where: a town or station (region_id) or a team (team_id)."""

    role: Role
    region_id: int | None = None
    team_id: int | None = None


class AppointByLink(AppointAt, prefix="apl"):
    """Make a one-use invitation link for the role at the place."""


class AppointByPick(AppointAt, prefix="app"):
    """Choose someone who already uses the bot (by part of their name)."""


class AppointUser(AppointAt, prefix="apu"):
    """This person gets the role at the place."""

    user_id: int


def roles_keyboard(roles: Sequence[Role]) -> InlineKeyboardMarkup:
    return inline_keyboard([(_(ROLE_LABELS[role]), AppointRole(role=role)) for role in roles])


def places_keyboard(role: Role, places: Sequence[Region | Team]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for place in places:
        if isinstance(place, Team):
            at = AppointAt(role=role, team_id=place.id)
        else:
            at = AppointAt(role=role, region_id=place.id)
        kb.button(text=local_name(place, locale()), callback_data=at)
    kb.adjust(1)
    return kb.as_markup()


def how_keyboard(at: AppointAt) -> InlineKeyboardMarkup:
    link = AppointByLink(role=at.role, region_id=at.region_id, team_id=at.team_id)
    pick = AppointByPick(role=at.role, region_id=at.region_id, team_id=at.team_id)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔗 Make an invitation link"), callback_data=link)
    kb.button(text=_("👤 Choose someone who uses the bot"), callback_data=pick)
    kb.adjust(1)
    return kb.as_markup()


def people_keyboard(at: AppointAt, found: Sequence[User]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for person in found:
        this = AppointUser(
            role=at.role, region_id=at.region_id, team_id=at.team_id, user_id=person.id
        )
        kb.button(text=person.name or "?", callback_data=this)
    kb.adjust(1)
    return kb.as_markup()
