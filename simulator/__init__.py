"""A local stand-in for the Telegram Bot API, with a web chat: the offline demo and e2e harness.

`run_simulator()` runs it in-process, `python -m simulator` standalone; `Driver` plays people.
"""

from simulator.driver import BotMessage, Driver, SimUser
from simulator.limits import Limits
from simulator.media import TINY_JPEG
from simulator.server import Simulator, run_simulator

__all__ = ["TINY_JPEG", "BotMessage", "Driver", "Limits", "SimUser", "Simulator", "run_simulator"]
