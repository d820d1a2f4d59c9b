"""The Bot API methods the product uses, with Telegram's validation and error texts: one
module per family of methods, each registering its methods with `@method("name")`."""

from simulator.botapi import commands, editing, sending, updates
from simulator.botapi.call import METHODS, Call

__all__ = ["METHODS", "Call", "commands", "editing", "sending", "updates"]
