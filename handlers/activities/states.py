"""The states of the activity conversations, and the publishing form's steps in order."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class PublishActivity(StatesGroup):
    audience = State()
    title = State()
    content = State()
    place = State()
    location = State()
    day = State()
    start = State()
    length = State()
    capacity = State()
    repeat = State()
    confirm = State()


# The order of the publishing form is the order above: each answer asks the step after it
# (handlers/activities/ask.py), and input a step did not ask for gets that step's hint.
STEPS: tuple[State, ...] = PublishActivity.__states__


class CheckIn(StatesGroup):
    code = State()


class FinishAttendance(StatesGroup):
    hours = State()


class ActivityPhotos(StatesGroup):
    photos = State()
