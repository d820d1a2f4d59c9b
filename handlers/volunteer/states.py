"""The completion form: photos, then hours for each volunteer who went, then a note.
STEPS is the order of the steps, written once: what comes next and what to say to an
unexpected answer are read from it (the form has no Back: each answer is kept as given)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Completion(StatesGroup):
    photos = State()
    hours = State()
    note = State()


STEPS: tuple[State, ...] = (Completion.photos, Completion.hours, Completion.note)
