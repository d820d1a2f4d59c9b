"""The driver's connection to a simulator: the bot it plays against, creating people and
groups, and waiting until the bot has handled every update."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from simulator.driver.chats import SimGroup, SimUser
from simulator.driver.messages import ExpectationFailed, FileRef, SimulatorError

DEFAULT_TIMEOUT = 5.0


class Driver:
    """Connects to a simulator and creates the people a test plays."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        # aiohttp's default of 100: many people waiting for replies at once need more.
        self.connections = connections
        self._bot_names = {"username": username, "first_name": first_name}
        self._session: aiohttp.ClientSession | None = None
        self.bot: dict[str, Any] = {}

    async def __aenter__(self) -> Driver:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections)
        )
        names = {k: v for k, v in self._bot_names.items() if v}
        self.bot = await self.call("POST", "/sim/api/bots", json={"token": self.token, **names})
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def bot_id(self) -> int:
        return int(self.bot["id"])

    async def call(self, method: str, path: str, *, wait: float = 0.0, **kwargs: Any) -> Any:
        """One control API request; raises SimulatorError on `{"ok": false}`."""
        if self._session is None:
            raise RuntimeError("use the Driver as `async with Driver(...) as d:`")
        timeout = aiohttp.ClientTimeout(total=wait + 15.0)
        async with self._session.request(
            method, self.base_url + path, timeout=timeout, **kwargs
        ) as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise SimulatorError(body.get("error_code", resp.status), body.get("description", ""))
        return body["result"]

    async def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
        username: str | None = None,
        user_id: int | None = None,
        label: str | None = None,
        phone_number: str | None = None,
    ) -> SimUser:
        """A persona (created, or updated if `user_id` exists) and its chat with the bot."""
        fields = {
            "first_name": first_name,
            "last_name": last_name,
            "language_code": language_code,
            "username": username,
            "user_id": user_id,
            "label": label,
            "phone_number": phone_number,
        }
        persona = await self.call(
            "POST", "/sim/api/users", json={k: v for k, v in fields.items() if v is not None}
        )
        user = SimUser(self, persona)
        await user.catch_up()
        return user

    async def group(self, title: str, members: list[SimUser]) -> SimGroup:
        """A group chat with the bot and `members` (the first one adds the bot)."""
        body = {"title": title, "member_ids": [m.id for m in members]}
        group = await self.call("POST", f"/sim/api/bots/{self.bot_id}/groups", json=body)
        return SimGroup(self, group["id"], group["title"])

    async def users(self) -> list[dict[str, Any]]:
        return await self.call("GET", "/sim/api/users")

    async def violations(self) -> dict[str, Any]:
        """Every 429 the simulator returned: {"total": n, "by_chat": {chat_id: n}}."""
        return (await self.call("GET", "/sim/api/stats"))["violations"]

    async def until_updates_handled(self, timeout: float | None = None) -> None:
        """Wait until the bot has confirmed every update sent to it: each was handled, and
        the replies it made while handling are in the chats. Notices it queued for later
        (the outbox) are the bot's side: see the harness's `idle()`."""
        timeout = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        path = f"/sim/api/bots/{self.bot_id}/updates"
        while True:
            wait = max(0.0, min(deadline - loop.time(), 1.0))
            state = await self.call("GET", path, wait=wait, params={"timeout": wait})
            if state["pending"] == 0:
                return
            if loop.time() >= deadline:
                raise ExpectationFailed(
                    f"{state['pending']} update(s) still unhandled after {timeout}s"
                )

    async def download(self, file: FileRef | str) -> bytes:
        """The bytes of a file the bot or a person sent."""
        file_id = file.file_id if isinstance(file, FileRef) else file
        if self._session is None:
            raise RuntimeError("use the Driver as `async with Driver(...) as d:`")
        async with self._session.get(f"{self.base_url}/sim/files/{file_id}") as resp:
            resp.raise_for_status()
            return await resp.read()
