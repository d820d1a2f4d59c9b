"""What a person sees through the driver: messages with their buttons and files, answers
to button presses, and the driver's two errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class SimulatorError(Exception):
    """The simulator refused an action (unknown button, blocked bot, bad input…)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


class ExpectationFailed(AssertionError):
    """What a test expected from the bot did not happen in time."""


class InlineButton(NamedTuple):
    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class FileRef:
    """A file in a message; `url` is relative to the simulator (see `Driver.download`)."""

    file_id: str
    file_unique_id: str
    url: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> FileRef:
        return cls(
            file_id=data["file_id"],
            file_unique_id=data["file_unique_id"],
            url=f"/sim/files/{data['file_id']}",
            file_name=data.get("file_name"),
            mime_type=data.get("mime_type"),
            width=data.get("width"),
            height=data.get("height"),
            duration=data.get("duration"),
        )


@dataclass(frozen=True)
class BotMessage:
    """A message in a chat with the bot as a person sees it (`from_bot` tells the direction).

    `text` is the text or the caption; edits are already applied.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None
    inline_buttons: list[list[InlineButton]]
    reply_keyboard: list[list[str]] | None
    removes_keyboard: bool
    edited: bool
    photo: FileRef | None
    document: FileRef | None
    voice: FileRef | None
    location: tuple[float, float] | None
    contact: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> BotMessage:
        msg = view["message"]
        inline = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
        keyboard = view.get("reply_keyboard")
        location = msg.get("location")
        return cls(
            message_id=view["message_id"],
            chat_id=view["chat_id"],
            from_bot=view["outgoing"],
            text=msg.get("text", msg.get("caption")),
            inline_buttons=[
                [InlineButton(b["text"], b.get("callback_data"), b.get("url")) for b in row]
                for row in inline
            ],
            reply_keyboard=[[b["text"] for b in row] for row in keyboard["keyboard"]]
            if keyboard
            else None,
            removes_keyboard=view.get("remove_keyboard", False),
            edited=view["edited"],
            photo=FileRef.of(msg["photo"][-1]) if msg.get("photo") else None,
            document=FileRef.of(msg["document"]) if msg.get("document") else None,
            voice=FileRef.of(msg["voice"]) if msg.get("voice") else None,
            location=(location["latitude"], location["longitude"]) if location else None,
            contact=msg.get("contact"),
            raw=msg,
        )

    def buttons(self) -> list[str]:
        """Texts of all inline buttons, row by row."""
        return [b.text for row in self.inline_buttons for b in row]

    def button(self, text: str) -> InlineButton:
        for row in self.inline_buttons:
            for button in row:
                if button.text == text:
                    return button
        raise KeyError(f"no inline button {text!r}; buttons: {self.buttons()}")

    def summary(self) -> str:
        who = "bot" if self.from_bot else "user"
        body = self.text if self.text is not None else _media_kind(self)
        buttons = f" {self.buttons()}" if self.inline_buttons else ""
        return f"#{self.message_id} {who}: {body!r}{buttons}"


def _media_kind(msg: BotMessage) -> str:
    for kind in ("photo", "document", "voice", "location", "contact"):
        if getattr(msg, kind) is not None:
            return f"<{kind}>"
    return "<message>"


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
