"""«说说您的需要» as the resident sees it: what they typed, said or showed, read back to them
with one question and two big buttons, before anything is sent to the town."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from models import Region
from services.i18n import local_name
from views.format import locale
from views.menu import inline_keyboard


# Both carry the token of the one question asked: an older question's button is refused,
# and «Yes» pressed again after the order was made tells that order's number.
class SendNeed(CallbackData, prefix="nds"):
    token: str


class DropNeed(CallbackData, prefix="ndd"):
    token: str


def need_question(
    description: str, kind: str | None, station: Region | None, token: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What will be sent, then «Shall we pass this on to the town?». `kind` is the
    attachment's kind ("voice", "photo") or None for words only."""
    if kind == "voice":
        said = _("You sent a voice message.")
    elif kind == "photo":
        said = _("You sent a photo: {text}").format(text=description)
    else:
        said = _("You wrote: «{text}»").format(text=description)
    lines = [
        said,
        _("Where: at home ({village}). When: as soon as possible.").format(
            village=local_name(station, locale()) if station else ""
        ),
        "",
        _("Shall we pass this on to the town?"),
    ]
    return "\n".join(lines), _keyboard(token)


def _keyboard(token: str) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(_("✅ Yes, pass it on"), SendNeed(token=token)), (_("No, thanks"), DropNeed(token=token))]
    )


def need_received(number: str) -> str:
    return _(
        "Received! Your order number is {number}. The town office will read it and find "
        "the right volunteers; you will get a message here."
    ).format(number=number)
