"""The command menus (setMyCommands and kin) and the settings that only decorate the bot."""

from __future__ import annotations

import json
import re
from typing import Any

from telegram import BotCommand

from simulator.botapi.call import (
    Call,
    method,
)
from simulator.errors import ApiError
from simulator.state import BotState

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def _commands_key(call: Call) -> str:
    return commands_key(call.params.json("scope"), call.params.string("language_code"))


def commands_key(scope: dict[str, Any] | None, language_code: str | None) -> str:
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


def menu_commands(bot: BotState, language_code: str | None) -> list[dict[str, Any]]:
    """The command menu a private chat shows: the user's language first, then the default."""
    for language in ((language_code or "")[:2], ""):
        found = bot.commands.get(commands_key(None, language))
        if found:
            return found
    return []


@method("setMyCommands")
async def set_my_commands(call: Call) -> Any:
    commands = call.params.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError.bad_request("commands must be a list of at most 100 BotCommand")
    parsed = [BotCommand.de_json(c) for c in commands]
    for command in parsed:
        if not _COMMAND_RE.match(command.command):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.description) <= 256:
            raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    call.bot.commands[_commands_key(call)] = [c.to_dict() for c in parsed]
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> Any:
    return call.bot.commands.get(_commands_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> Any:
    call.bot.commands.pop(_commands_key(call), None)
    return True


@method(
    "setChatMenuButton",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setMyDefaultAdministratorRights",
)
async def accept_setting(call: Call) -> Any:
    # Settings that only change how Telegram's own apps decorate the bot.
    return True
