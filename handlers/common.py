"""Small helpers shared by handlers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


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


def step_after(steps: Sequence[State], step: State | str | None) -> State | None:
    """The step that follows `step` (a state or its name) in a form's list of steps; None
    after the last, or for a state not in the list."""
    names = [s.state for s in steps]
    name = step.state if isinstance(step, State) else step
    if name in names and (i := names.index(name)) + 1 < len(steps):
        return steps[i + 1]
    return None


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
