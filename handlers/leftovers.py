"""A reply button of a step already finished («Skip», «✅», an hour, «Tomorrow» …), tapped
from a keyboard left in the chat: say the step is over and give the menu back, rather than
«did not understand» (or taking it for a new request). Included just before the menu's
fall-backs, so it sees only what no conversation took."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.common import menu_again
from handlers.volunteer.done import HOUR_CHOICES
from models import Slot, User
from services.people import Roles
from views.format import slot_label
from views.menu import BTN_BACK, BTN_PHOTOS_DONE, BTN_SKIP, OLD_PHOTOS_DONE
from views.order_form import BTN_NO_PHONE, need_choices, when_choices


def step_buttons() -> frozenset[str]:
    """The reply buttons of conversation steps, in the reader's language."""
    return frozenset(
        {
            str(BTN_SKIP),
            str(BTN_BACK),
            str(BTN_NO_PHONE),
            str(BTN_PHOTOS_DONE),
            OLD_PHOTOS_DONE,
            *HOUR_CHOICES,
            *need_choices(),
            *when_choices(),
            *(slot_label(s) for s in Slot),
        }
    )


def is_leftover(message: Message) -> bool:
    return message.text is not None and message.text in step_buttons()


async def leftover(message: Message, roles: Roles, user: User) -> None:
    text = _("That step is already finished. Here is the menu again: tap what you need.")
    await menu_again(message, user, roles, text)


def router() -> Router:
    r = Router(name="leftovers")
    r.message.register(leftover, StateFilter(None), is_leftover)
    return r
