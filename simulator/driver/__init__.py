"""A test driver that plays people chatting with the bot, through the simulator's HTTP API.

    async with Driver(sim.base_url, token) as d:
        u = await d.user("王大妈", label="庙庙湖村 居民")
        await u.send("/start")
        menu = await u.expect(contains="欢迎")
        await u.press("看病义诊")

It uses only the control API (/sim/api/...), the same one the web chat uses, so it works
against an in-process simulator and a standalone one alike.
"""

from simulator.driver.chats import ChatSession, SimGroup, SimUser
from simulator.driver.client import Driver
from simulator.driver.messages import (
    BotMessage,
    CallbackAnswer,
    ExpectationFailed,
    FileRef,
    InlineButton,
    SimulatorError,
)
from simulator.media import TINY_JPEG

__all__ = [
    "TINY_JPEG",
    "BotMessage",
    "CallbackAnswer",
    "ChatSession",
    "Driver",
    "ExpectationFailed",
    "FileRef",
    "InlineButton",
    "SimGroup",
    "SimUser",
    "SimulatorError",
]
