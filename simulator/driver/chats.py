"""The people a test plays: one person's view of one chat (what they send, what arrives),
a person with their private chat, and a group."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from simulator.driver.messages import BotMessage, CallbackAnswer, ExpectationFailed
from simulator.media import TINY_JPEG

if TYPE_CHECKING:
    from simulator.driver.client import Driver

_POLL_SLICE = 10.0  # longest single long poll; expectations loop until their deadline
T = TypeVar("T")


class ChatSession:
    """One person's view of one chat: what they send, and what they see arrive."""

    def __init__(self, driver: Driver, chat_id: int, sender_id: int) -> None:
        self.driver = driver
        self.chat_id = chat_id
        self.sender_id = sender_id
        self._seq = 0
        self._inbox: deque[BotMessage] = deque()
        self._edits: deque[BotMessage] = deque()
        self._last_query: str | None = None

    @property
    def last_query_id(self) -> str | None:
        """The callback query id of this person's last button press."""
        return self._last_query

    @property
    def _path(self) -> str:
        return f"/sim/api/bots/{self.driver.bot_id}/chats/{self.chat_id}"

    async def catch_up(self) -> None:
        """Treat everything already in the chat as seen; `expect` waits for what comes next."""
        state = await self.driver.call("GET", self._path)
        self._seq = state["seq"]
        self._inbox.clear()
        self._edits.clear()

    # Sending ---------------------------------------------------------------------------

    async def _act(self, action: str, **kwargs: Any) -> BotMessage:
        if "json" in kwargs:
            kwargs["json"] = {"user_id": self.sender_id, **kwargs["json"]}
        result = await self.driver.call("POST", f"{self._path}/{action}", **kwargs)
        return BotMessage.from_view(result["message"])

    async def send(self, text: str) -> BotMessage:
        """Send a text message or a command such as "/start"."""
        return await self._act("text", json={"text": text})

    async def send_command(self, command: str, args: str | None = None) -> BotMessage:
        """`/command args`; with args this is how a deep link (t.me/bot?start=args) arrives."""
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return await self.send(text)

    async def send_contact(
        self,
        phone_number: str | None = None,
        *,
        own: bool = True,
        contact_user_id: int | None = None,
        first_name: str | None = None,
    ) -> BotMessage:
        """Share a contact: one's own (user_id = sender) or someone else's card."""
        body: dict[str, Any] = {"own": own, "phone_number": phone_number}
        body.update(contact_user_id=contact_user_id, first_name=first_name)
        return await self._act("contact", json={k: v for k, v in body.items() if v is not None})

    async def send_location(self, latitude: float, longitude: float) -> BotMessage:
        return await self._act("location", json={"latitude": latitude, "longitude": longitude})

    def _form(self, field_name: str, data: bytes, filename: str, mime: str) -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field("user_id", str(self.sender_id))
        form.add_field(field_name, data, filename=filename, content_type=mime)
        return form

    async def send_photo(self, data: bytes = TINY_JPEG, caption: str | None = None) -> BotMessage:
        form = self._form("photo", data, "photo.jpg", "image/jpeg")
        if caption:
            form.add_field("caption", caption)
        return await self._act("photo", data=form)

    async def send_voice(self, data: bytes, duration: int = 3) -> BotMessage:
        form = self._form("voice", data, "voice.ogg", "audio/ogg")
        form.add_field("duration", str(duration))
        return await self._act("voice", data=form)

    async def tap(
        self, text: str, *, latitude: float | None = None, longitude: float | None = None
    ) -> BotMessage:
        """Tap a button of the current reply keyboard (contact/location buttons share them)."""
        body: dict[str, Any] = {"text": text}
        if latitude is not None and longitude is not None:
            body.update(latitude=latitude, longitude=longitude)
        return await self._act("tap", json=body)

    async def press(
        self, text: str, *, message: BotMessage | int | None = None, wait: float | None = None
    ) -> str:
        """Press the inline button labelled `text` on the latest bot message that has one.

        Returns the callback query id once the bot has received the query.
        """
        body: dict[str, Any] = {"text": text}
        if message is not None:
            body["message_id"] = _message_id(message)
        return await self._press(body, wait)

    async def press_data(
        self, message: BotMessage | int, data: str, *, wait: float | None = None
    ) -> str:
        """Press with arbitrary callback data, as a forged or stale button would."""
        return await self._press({"message_id": _message_id(message), "callback_data": data}, wait)

    async def _press(self, body: dict[str, Any], wait: float | None) -> str:
        wait = self.driver.timeout if wait is None else wait
        body = {"user_id": self.sender_id, "wait": wait, **body}
        result = await self.driver.call("POST", f"{self._path}/press", wait=wait, json=body)
        if not result["accepted"]:
            raise ExpectationFailed("the bot does not receive callback_query updates")
        if not result["delivered"]:
            raise ExpectationFailed(
                f"the bot did not fetch the callback query within {wait}s (is it polling?)"
            )
        self._last_query = result["callback_query_id"]
        return self._last_query

    async def callback_answer(
        self, timeout: float | None = None, query_id: str | None = None
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery for the last press (or for `query_id`)."""
        query_id = query_id or self._last_query
        if query_id is None:
            raise ExpectationFailed("no button was pressed yet")
        timeout = self.driver.timeout if timeout is None else timeout
        path = f"/sim/api/bots/{self.driver.bot_id}/callbacks/{query_id}"
        result = await self.driver.call("GET", path, wait=timeout, params={"timeout": timeout})
        if not result["answered"]:
            raise ExpectationFailed(f"the bot did not answer the callback query within {timeout}s")
        answer = result["answer"]
        return CallbackAnswer(answer["text"], answer["show_alert"], answer["url"])

    # Receiving -------------------------------------------------------------------------

    async def _pump(self, wait: float) -> None:
        params = {"after": self._seq, "timeout": wait}
        result = await self.driver.call("GET", f"{self._path}/events", wait=wait, params=params)
        for event in result["events"]:
            self._seq = max(self._seq, event["seq"])
            kind = event["type"]
            if kind in ("message", "edit") and event["view"]["outgoing"]:
                queue = self._inbox if kind == "message" else self._edits
                queue.append(BotMessage.from_view(event["view"]))

    async def _wait_for(
        self, take: Callable[[], T | None], timeout: float | None, what: Callable[[], str]
    ) -> T:
        timeout = self.driver.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := take()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ExpectationFailed(f"{what()} within {timeout}s; {await self._recent()}")
            await self._pump(min(remaining, _POLL_SLICE))
        return found

    async def _recent(self) -> str:
        history = await self.history()
        lines = "\n  ".join(m.summary() for m in history[-6:]) or "(empty chat)"
        return f"the chat ends with:\n  {lines}"

    async def expect(self, timeout: float | None = None, contains: str | None = None) -> BotMessage:
        """The bot's next new message here.

        With `contains`, the first new message whose text includes it; the non-matching
        messages before it are consumed (a timeout lists what the chat holds).
        """

        def take() -> BotMessage | None:
            while self._inbox:
                msg = self._inbox.popleft()
                if contains is None or contains in (msg.text or ""):
                    return msg
            return None

        what = "no bot message" + (f" containing {contains!r}" if contains else "")
        return await self._wait_for(take, timeout, lambda: what)

    async def expect_many(self, n: int, timeout: float | None = None) -> list[BotMessage]:
        """The bot's next `n` new messages, all within `timeout`."""
        got: list[BotMessage] = []

        def take() -> list[BotMessage] | None:
            while self._inbox and len(got) < n:
                got.append(self._inbox.popleft())
            return got if len(got) == n else None

        return await self._wait_for(take, timeout, lambda: f"only {len(got)} of {n} bot messages")

    async def expect_edit(
        self, message_id: int | BotMessage | None = None, timeout: float | None = None
    ) -> BotMessage:
        """The next edit of a bot message (of `message_id`, if given), as edited."""
        wanted = None if message_id is None else _message_id(message_id)

        def take() -> BotMessage | None:
            for edit in self._edits:
                if wanted is None or edit.message_id == wanted:
                    self._edits.remove(edit)
                    return edit
            return None

        what = "no edit" + (f" of message {wanted}" if wanted else "")
        return await self._wait_for(take, timeout, lambda: what)

    async def expect_nothing_new(self) -> None:
        """Fail if the bot has sent a message here that no `expect` took. Call it once the
        bot is idle (`BotEnv.idle()`): then a late duplicate is already here, not on its way."""
        await self._pump(0.0)
        if self._inbox:
            raise ExpectationFailed(f"unexpected bot message: {self._inbox[0].summary()}")

    async def expect_no_message(self, within: float = 0.5) -> None:
        """Fail if the bot sends a new message here within `within` seconds. This passes when
        a message merely comes later: prefer waiting for idle, then `expect_nothing_new`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self._inbox and (remaining := deadline - loop.time()) > 0:
            await self._pump(remaining)
        if self._inbox:
            raise ExpectationFailed(f"unexpected bot message: {self._inbox[0].summary()}")

    async def history(self) -> list[BotMessage]:
        """Every message in the chat, both directions, with edits applied."""
        state = await self.driver.call("GET", self._path)
        return [BotMessage.from_view(view) for view in state["messages"]]

    async def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard the person currently sees (None when there is none)."""
        keyboard = (await self.driver.call("GET", self._path))["reply_keyboard"]
        return [[b["text"] for b in row] for row in keyboard["keyboard"]] if keyboard else None


def _message_id(message: BotMessage | int) -> int:
    return message.message_id if isinstance(message, BotMessage) else int(message)


class SimUser(ChatSession):
    """A persona in its private chat with the bot."""

    def __init__(self, driver: Driver, persona: dict[str, Any]) -> None:
        super().__init__(driver, persona["id"], persona["id"])
        self.persona = persona

    @property
    def id(self) -> int:
        return int(self.persona["id"])

    @property
    def first_name(self) -> str:
        return str(self.persona["first_name"])

    @property
    def phone_number(self) -> str:
        return str(self.persona["phone_number"])

    async def block(self) -> None:
        """Block the bot: it gets a my_chat_member update and 403 on every send."""
        await self.driver.call("POST", f"/sim/api/bots/{self.driver.bot_id}/users/{self.id}/block")

    async def unblock(self) -> None:
        path = f"/sim/api/bots/{self.driver.bot_id}/users/{self.id}/unblock"
        await self.driver.call("POST", path)


@dataclass
class SimGroup:
    """A group chat with the bot; act in it through `member(user)`."""

    driver: Driver
    id: int
    title: str

    async def member(self, user: SimUser) -> ChatSession:
        session = ChatSession(self.driver, self.id, user.id)
        await session.catch_up()
        return session
