"""The steps of applying to join a team, in order."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Enrolment(StatesGroup):
    team = State()
    name = State()
    phone = State()
    skills = State()
    party = State()


# The order of the form is the order above: each answer asks the step after it
# (handlers/enrol/apply.py `ask`), and input a step did not ask for gets that step's hint.
STEPS: tuple[State, ...] = Enrolment.__states__
