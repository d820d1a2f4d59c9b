"""The steps of the order form, and their order, written once: next, back and "that was not
what I asked" (handlers/ordering/flow.py) all read STEPS."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class OrderForm(StatesGroup):
    area = State()
    category = State()
    description = State()
    day = State()
    pick_day = State()
    slot = State()
    place = State()
    confirm = State()


class ProxyForm(StatesGroup):
    """Station staff ordering for a resident: who it is for, before the order form."""

    name = State()
    phone = State()
    village = State()


STEPS: tuple[State, ...] = (
    OrderForm.area,
    OrderForm.category,
    OrderForm.description,
    OrderForm.day,
    OrderForm.slot,
    OrderForm.place,
    OrderForm.confirm,
)
PROXY_STEPS: tuple[State, ...] = (ProxyForm.name, ProxyForm.phone, ProxyForm.village)

# A step asked from inside another (a date from the calendar, asked from «Pick a date»):
# «Back» returns to the step it came from, and the next step is that step's next.
INSIDE: dict[str, State] = {str(OrderForm.pick_day.state): OrderForm.day}

# Steps that finish the one before: editing the day from the summary asks the slot too.
FINISHES_PREVIOUS: frozenset[State] = frozenset({OrderForm.slot})


def home(current: str | None) -> str | None:
    """The step `current` belongs to (the step a step asked from inside it came from)."""
    outer = INSIDE.get(current or "")
    return outer.state if outer is not None else current


def step_before(current: str | None) -> State | None:
    """The step «Back» returns to from `current`; None at the first step (Back cancels)."""
    if (outer := INSIDE.get(current or "")) is not None:
        return outer
    for steps in (STEPS, PROXY_STEPS):
        names = [s.state for s in steps]
        if current in names and (i := names.index(current)) > 0:
            return steps[i - 1]
    return None
