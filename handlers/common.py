"""Small helpers shared by handlers."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.media import save_attachment
from bot.settings import Settings


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
    owner = message.from_user.id if message.from_user else None
    path = await save_attachment(
        bot, settings.media_dir, photo.file_id, photo.file_unique_id, "jpg", owner=owner
    )
    photos.append([photo.file_id, photo.file_unique_id, path])
    await state.update_data(photos=photos)
    await message.answer(_("Photo {n} received.").format(n=len(photos)))


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
