from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class PeopleForm(StatesGroup):
    find = State()  # part of a name or phone number
    amount = State()  # hours (a correction) or points (a bonus)
    reason = State()  # why: kept in the ledger
