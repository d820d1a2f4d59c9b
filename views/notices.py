"""Queued notices, rendered in the recipient's language when they go out.

Each kind of notice (models.NoticeKind, the `kind` stored in an outbox row) has one renderer,
registered where its feature's texts live:

    @renders(NoticeKind.TASK, reads=screens.order_notice)
    def task(note: Note, facts: OrderFacts) -> Rendered | None: ...

`reads` is the service read function that loads what the notice shows (None when the
payload says it all); the sender calls it, then the renderer with plain data. Returning
None from either drops the notice: the thing it was about moved on meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from models import NoticeKind

# What a renderer returns: the Bot API method and its parameters, ready to send.
Rendered = tuple[str, dict[str, Any]]
Reads = Callable[..., Awaitable[Any]]  # (session, outbox row) -> facts | None
Render = Callable[..., Rendered | None]  # (Note, facts) -> Rendered | None


@dataclass(frozen=True)
class Note:
    """One queued notice as its renderer sees it."""

    chat_id: int
    user_id: int | None
    payload: dict[str, Any]
    tz: tzinfo  # the configured zone the recipient's times are shown in


@dataclass(frozen=True)
class Renderer:
    kind: NoticeKind
    render: Render
    reads: Reads | None


_RENDERERS: dict[NoticeKind, Renderer] = {}


def renders(kind: NoticeKind, *, reads: Reads | None = None) -> Callable[[Render], Render]:
    """Register the decorated function as the renderer of `kind`."""

    def register(render: Render) -> Render:
        if kind in _RENDERERS:
            raise RuntimeError(f"two renderers for the notice kind {kind!r}")
        _RENDERERS[kind] = Renderer(kind, render, reads)
        return render

    return register


def renderer_for(kind: str) -> Renderer | None:
    """The renderer of a stored kind; None for a kind this version does not know."""
    try:
        return _RENDERERS.get(NoticeKind(kind))
    except ValueError:
        return None


def message(
    chat_id: int, lines: list[str], markup: Any = None, photo: str | None = None
) -> Rendered:
    """A text message, or a photo with the lines as its caption (Telegram's limits: 4096
    characters of text, 1024 of caption)."""
    params: dict[str, Any] = {"chat_id": chat_id}
    if photo:
        method = "sendPhoto"
        params.update(photo=photo, caption="\n".join(lines)[:1024])
    else:
        method = "sendMessage"
        params["text"] = "\n".join(lines)[:4096]
    if markup is not None:
        params["reply_markup"] = markup
    return method, params
