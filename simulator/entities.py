"""Text formatting as the Bot API does it: HTML parse mode into text plus entities.

Telegram turns `parse_mode=HTML` into plain text and `MessageEntity` objects (offsets in
UTF-16 code units) and rejects markup it cannot parse, so a bot that forgets to escape a
user's `<` fails here just as it would in production. Markdown modes are passed through
as plain text: the product formats with HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from telegram import MessageEntity

from simulator.errors import ApiError

# Tag → entity type; a few tags need attributes and are handled in `_entity_for`.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[MessageEntity]:
    """The bot_command entity a Telegram client attaches to a leading `/command`."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    return [MessageEntity(MessageEntity.BOT_COMMAND, 0, utf16_len(command))]


@dataclass
class _Open:
    tag: str
    offset: int
    entity_type: str | None
    extra: dict[str, str] = field(default_factory=dict)


class _TelegramHTML(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.text: list[str] = []
        self.length = 0
        self.stack: list[_Open] = []
        self.entities: list[MessageEntity] = []

    def _fail(self, what: str) -> ApiError:
        line, col = self.getpos()
        chars = sum(len(x) for x in self.source.splitlines(keepends=True)[: line - 1]) + col
        offset = len(self.source[:chars].encode())
        return ApiError.bad_request(f"can't parse entities: {what} at byte offset {offset}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.stack.append(_Open(tag, self.length, self._entity_for(tag, values), values))

    def _entity_for(self, tag: str, attrs: dict[str, str]) -> str | None:
        if tag in _SIMPLE_TAGS:
            return _SIMPLE_TAGS[tag]
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return "spoiler"
        if tag == "a" and "href" in attrs:
            return "text_link"
        if tag == "blockquote":
            return "expandable_blockquote" if "expandable" in attrs else "blockquote"
        if tag == "tg-emoji" and "emoji-id" in attrs:
            return "custom_emoji"
        raise self._fail(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise self._fail(f'Unexpected end tag "{tag}"')
        opened = self.stack.pop()
        if opened.tag != tag:
            raise self._fail(f'Unmatched end tag "{tag}", expected "</{opened.tag}>"')
        if opened.tag == "code" and self.stack and self.stack[-1].tag == "pre":
            # <pre><code class="language-x"> is one pre entity carrying the language.
            language = opened.extra.get("class", "").removeprefix("language-")
            self.stack[-1].extra["language"] = language
            return
        length = self.length - opened.offset
        if length > 0 and opened.entity_type:
            self.entities.append(self._make(opened, length))

    def _make(self, opened: _Open, length: int) -> MessageEntity:
        if opened.entity_type == "text_link":
            return MessageEntity("text_link", opened.offset, length, url=opened.extra["href"])
        if opened.entity_type == "custom_emoji":
            emoji_id = opened.extra["emoji-id"]
            return MessageEntity("custom_emoji", opened.offset, length, custom_emoji_id=emoji_id)
        if opened.entity_type == "pre" and opened.extra.get("language"):
            return MessageEntity("pre", opened.offset, length, language=opened.extra["language"])
        return MessageEntity(opened.entity_type or "", opened.offset, length)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.length += utf16_len(data)

    def finish(self) -> tuple[str, list[MessageEntity]]:
        self.close()
        if self.stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        self.entities.sort(key=lambda e: (e.offset, -e.length))
        return "".join(self.text), self.entities


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[MessageEntity]]:
    """Plain text and entities for `text` sent with `parse_mode`."""
    if parse_mode and parse_mode.lower() == "html":
        parser = _TelegramHTML(text)
        parser.feed(text)
        return parser.finish()
    return text, []
