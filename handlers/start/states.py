"""Registration of a new resident: village → name → phone (each step asks the next)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    village = State()
    name = State()
    phone = State()
