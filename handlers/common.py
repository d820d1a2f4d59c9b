"""Small helpers shared by handlers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import time, tzinfo
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, User
from services import screens
from services.people import Roles
from views.menu import choices_keyboard, contact_keyboard, main_menu
from views.orders import order_lines

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def typed_answers(name: str, answers: Mapping[State, Any], but: object) -> Router:
    """A router that takes each step's typed answer (step → its handler, in the order given):
    any text but the `but` button (Back or Cancel, which its own handler takes)."""
    r = Router(name=name)
    for step, handler in answers.items():
        r.message.register(handler, step, F.text, F.text != but)
    return r


def include(name: str, *modules: ModuleType) -> Router:
    """A conversation package's router: each step module's own `router()`, in the order
    given (the order handlers are tried in)."""
    r = Router(name=name)
    r.include_routers(*(m.router() for m in modules))
    return r


class Settings(Protocol):
    """The settings handlers read (middleware data `settings`, bot.settings.Settings)."""

    admin_ids: list[int]
    quiet_hours_start: time
    quiet_hours_end: time
    max_open_orders: int
    media_dir: Path
    dashboard_host: str
    dashboard_port: int
    dashboard_public_url: str

    @property
    def tz(self) -> ZoneInfo: ...


class Media(Protocol):
    """Where what people send is kept (middleware data `media`, bot.media.MediaStore)."""

    async def save(
        self, bot: Bot, file_id: str, file_unique_id: str, ext: str, *, owner: int | None = None
    ) -> str | None: ...

    async def save_kept(
        self, bot: Bot, attachments: Sequence[Sequence[str | None]], owner: int
    ) -> tuple[list[tuple[str, str, str, str | None]], list[str]]: ...

    def discard(self, paths: Sequence[str]) -> None: ...


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


async def menu_again(message: Message, user: User, roles: Roles, text: str) -> None:
    """Say `text` with the main menu back; someone not registered yet is sent to /start."""
    if not user.registered:
        await message.answer(_("Please send /start to begin."))
        return
    await message.answer(text, reply_markup=main_menu(roles))


async def ask_choice(
    message: Message, question: str, labels: Iterable[str] = (), *, columns: int = 2
) -> None:
    """Ask `question` with a big button for each label, and Cancel (no Back: the forms
    that ask this way go forward only)."""
    await message.answer(
        question, reply_markup=choices_keyboard(labels, columns=columns, back=False)
    )


async def picked(message: Message, choices: Mapping[str, T]) -> T | None:
    """What the tapped button (the message's text) stands for among `choices` (label → value);
    None, after asking for a tap, when the text is none of them."""
    choice = choices.get(message.text or "")
    if choice is None:
        await message.answer(_("Please tap one of the buttons below."))
    return choice


async def written(message: Message, limit: int, hint: str) -> str | None:
    """The message's text, trimmed, when it is 1 to `limit` characters and not a /command;
    None, after saying `hint` (which may name the limit as {n}), when it is not."""
    text = (message.text or "").strip()
    if not text or len(text) > limit or text.startswith("/"):
        await message.answer(hint.format(n=limit))
        return None
    return text


async def own_phone(message: Message) -> str | None:
    """The number on a shared contact card when it is the sender's own; None, after asking
    again, for anyone else's (a forwarded card may be someone else's)."""
    contact = message.contact
    if contact is None or message.from_user is None or contact.user_id != message.from_user.id:
        await message.answer(
            _("That is not your own number. Please use the button below."),
            reply_markup=contact_keyboard(),
        )
        return None
    return contact.phone_number


async def collect_photo(
    message: Message, state: FSMContext, bot: Bot, media: Media, limit: int
) -> None:
    """One more photo for the form's `photos` (file id, unique id, saved path), up to
    `limit`: the order's completion and the activity's record take them alike."""
    photos = (await state.get_data()).get("photos", [])
    if len(photos) >= limit:
        await message.answer(_("That is {n} photos already; tap ✅ to go on.").format(n=limit))
        return
    photo = (message.photo or [])[-1]
    owner = message.from_user.id if message.from_user else None
    path = await media.save(bot, photo.file_id, photo.file_unique_id, "jpg", owner=owner)
    photos.append([photo.file_id, photo.file_unique_id, path])
    await state.update_data(photos=photos)
    await message.answer(_("Photo {n} received.").format(n=len(photos)))


async def reply(
    query: CallbackQuery,
    text: str,
    markup: Markup | None = None,
    *,
    spent: bool = False,
    edit: bool = False,
) -> None:
    """Say `text` below the message whose button was tapped (taking its buttons away first
    when they are `spent`), or in its place (`edit`, with inline buttons only); nothing when
    that message is too old to reach."""
    if not isinstance(query.message, Message):
        return
    if edit:
        inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
        await query.message.edit_text(text, reply_markup=inline)
        return
    if spent:
        await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(text, reply_markup=markup)


async def spend(query: CallbackQuery) -> None:
    """Take the buttons away from the message whose button was tapped: they are used up."""
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


# (kind, file id, unique id, saved path): what an order keeps of a voice note or a photo.
Attached = list[tuple[str, str, str, str | None]]


# Not downloaded yet (path None): the order form downloads what the placed order keeps
# (bot/media.py save_kept), so a photo sent and then gone back over leaves no file behind.
def voice_need(message: Message) -> tuple[str, Attached]:
    """A voice note as an order's need: a placeholder description and the note."""
    assert message.voice is not None
    voice = message.voice
    return _("(voice message)"), [("voice", voice.file_id, voice.file_unique_id, None)]


async def photo_need(message: Message, limit: int) -> tuple[str, Attached] | None:
    """A photo as an order's need: its caption (or a placeholder) and the photo; None
    (having said so) when the caption is over `limit`."""
    caption = (message.caption or "").strip()
    if await too_long(message, caption, limit):
        return None
    photo = (message.photo or [])[-1]
    return caption or _("(see photo)"), [("photo", photo.file_id, photo.file_unique_id, None)]


async def finished(state: FSMContext) -> dict[str, Any]:
    """The form's answers, the form over: cleared before anything is done with them, so a
    refusal does not leave it open and a second tap finds no form."""
    data = await state.get_data()
    await state.clear()
    return data


def step_after(steps: Sequence[State], step: State | str | None) -> State | None:
    """The step that follows `step` (a state or its name) in a form's list of steps; None
    after the last, or for a state not in the list."""
    names = [s.state for s in steps]
    name = step.state if isinstance(step, State) else step
    if name in names and (i := names.index(name)) + 1 < len(steps):
        return steps[i + 1]
    return None


async def show_order(
    query: CallbackQuery,
    session: AsyncSession,
    order: Order,
    markup: InlineKeyboardMarkup | None,
    *,
    above: Sequence[str] = (),
    below: Sequence[str] = (),
    with_phone: bool = True,
    own: bool = False,
    tz: tzinfo | None = None,
) -> None:
    """Rewrite the order card the tapped button sits on: the order as it is now, between
    `above` and `below`, with `markup` (`own`, `tz`: as views.orders.order_lines)."""
    facts = await screens.order_facts(session, order)
    lines = order_lines(facts, with_phone=with_phone, own=own, tz=tz)
    await edit_card(query, [*above, *lines, *below], markup)


async def edit_card(query: CallbackQuery, lines: list[str], markup: object = None) -> None:
    """Rewrite the card the pressed button sits on: its caption if it is a photo."""
    msg = query.message
    if not isinstance(msg, Message):
        return
    text = "\n".join(lines)
    if msg.photo:
        await msg.edit_caption(caption=text[:1024], reply_markup=markup)  # type: ignore[arg-type]
    else:
        await msg.edit_text(text[:4096], reply_markup=markup)  # type: ignore[arg-type]
