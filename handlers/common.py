"""Small helpers shared by handlers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TypeVar

from aiogram import Bot, Router
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

from bot.media import save_attachment
from bot.settings import Settings
from views.menu import choices_keyboard, contact_keyboard

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def include(name: str, *modules: ModuleType) -> Router:
    """A conversation package's router: each step module's own `router()`, in the order
    given (the order handlers are tried in)."""
    r = Router(name=name)
    r.include_routers(*(m.router() for m in modules))
    return r


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
    message: Message, state: FSMContext, bot: Bot, settings: Settings, limit: int
) -> None:
    """One more photo for the form's `photos` (file id, unique id, saved path), up to
    `limit`: the order's completion and the activity's record take them alike."""
    photos = (await state.get_data()).get("photos", [])
    if len(photos) >= limit:
        await message.answer(_("That is {n} photos already; tap ✅ to go on.").format(n=limit))
        return
    photo = (message.photo or [])[-1]
    path = await save_attachment(
        bot, settings.media_dir, photo.file_id, photo.file_unique_id, "jpg"
    )
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


def step_after(steps: tuple[State, ...], step: State) -> State:
    """The step that follows `step` in a form's list of steps."""
    return steps[steps.index(step) + 1]


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
