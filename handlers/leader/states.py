"""The leader's short conversations: a reason for a decline or a transfer, and assigning
volunteers (who, then when)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

REASON_MAX = 200


class Decline(StatesGroup):
    reason = State()


class Transfer(StatesGroup):
    reason = State()


class Assign(StatesGroup):
    volunteers = State()
    day = State()
