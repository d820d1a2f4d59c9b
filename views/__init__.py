"""What people see: keyboards and callback data, cards, texts, the renderers of queued
notices and the formatting of dates, hours and states in the reader's language and zone.

No database access here: what a screen shows is loaded by a service read function
(services/screens.py) and handed in as plain data. Nothing here imports handlers/ or bot/.

Importing the package imports every feature module, so every notice renderer is registered
(views/notices.py) before the sender asks for one.
"""

from views import (
    activities,
    broadcasts,
    dispatch,
    enrol,
    me,
    menu,
    order_cards,
    order_notices,
    orders,
    reports,
    unit_queue,
)

__all__ = [
    "activities",
    "broadcasts",
    "dispatch",
    "enrol",
    "me",
    "menu",
    "order_cards",
    "order_notices",
    "orders",
    "reports",
    "unit_queue",
]
