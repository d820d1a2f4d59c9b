"""Small helpers shared by handlers: the current locale and the commands list."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from models import OrderStatus, Role, Slot
from services.i18n import LOCALES, N_, gettext


def locale() -> str:
    return get_i18n().current_locale


def bot_commands() -> dict[str, list[tuple[str, str]]]:
    """The command menu in each language, for setMyCommands."""
    items = [
        ("start", N_("Main menu")),
        ("order", N_("Request a service")),
        ("orders", N_("My orders")),
        ("language", N_("Change language")),
        ("cancel", N_("Stop what I am doing")),
        ("help", N_("How to use this bot")),
    ]
    return {loc: [(cmd, gettext(text, loc)) for cmd, text in items] for loc in LOCALES}


ROLE_LABELS = {
    Role.OFFICE: N_("office staff"),
    Role.STATION_HEAD: N_("station head"),
    Role.TEAM_LEADER: N_("team leader"),
    Role.VOLUNTEER: N_("volunteer"),
    Role.ADMIN: N_("administrator"),
    Role.RESIDENT: N_("resident"),
}

SLOT_LABELS = {
    Slot.MORNING: N_("Morning"),
    Slot.AFTERNOON: N_("Afternoon"),
    Slot.ANY: N_("Any time"),
}

STATUS_LABELS = {
    OrderStatus.NEW: N_("received"),
    OrderStatus.ROUTED: N_("waiting for a team"),
    OrderStatus.ACCEPTED: N_("accepted"),
    OrderStatus.IN_PROGRESS: N_("in progress"),
    OrderStatus.DONE: N_("done, waiting for your rating"),
    OrderStatus.RATED: N_("done and rated"),
    OrderStatus.DECLINED: N_("being passed to another team"),
    OrderStatus.CANCELLED: N_("cancelled"),
}


def slot_label(slot: Slot) -> str:
    return _(SLOT_LABELS[slot])


def status_label(status: OrderStatus) -> str:
    return _(STATUS_LABELS[status])


async def too_long(message: Message, text: str, limit: int) -> bool:
    """Say so when `text` is over `limit`; the conversation stays where it was."""
    if len(text) <= limit:
        return False
    await message.answer(
        _("That is too long ({n} characters). Please keep it under {max}.").format(
            n=len(text), max=limit
        )
    )
    return True
