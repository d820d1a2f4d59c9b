"""What a person says about themselves: their village, name, phone and language (each
saved at once, one unit of work per answer); and opening an invitation link."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import Invite, Region, User
from services import people
from services.errors import DomainError
from services.i18n import LOCALES, N_
from services.uow import unit


async def open_invite(session: AsyncSession, code: str, user: User) -> Invite:
    """Use a one-use invitation: `user` is appointed as it says."""
    async with unit(session, user):
        return await people.redeem_invite(session, code, user)


async def set_village(session: AsyncSession, user: User, station: Region) -> None:
    async with unit(session, user):
        user.station_id, user.town_id = station.id, station.parent_id


async def set_name(session: AsyncSession, user: User, name: str) -> None:
    async with unit(session, user):
        user.name = name


async def finish_registration(session: AsyncSession, user: User, phone: str | None) -> None:
    """The last answer of registration: the phone number (None: skipped)."""
    async with unit(session, user):
        if phone is not None:
            user.phone = phone
        user.registered = True


async def set_large_print(session: AsyncSession, user: User, on: bool) -> None:
    """大字大按钮: one tall button to a row on this person's keyboards."""
    async with unit(session, user):
        user.large_print = on


async def set_language(session: AsyncSession, user: User, code: str) -> None:
    if code not in LOCALES:
        raise DomainError(N_("This button is no longer valid."))
    async with unit(session, user):
        user.locale = code
