"""The one step of answering a «其他需求» order: the office writes its reply."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class DeskForm(StatesGroup):
    reply = State()


STEPS: tuple[State, ...] = (DeskForm.reply,)


class RedispatchForm(StatesGroup):
    reason = State()  # why the order goes to the team picked instead
