"""The order loop, one module per part of it; this package exports what callers use.

    new → routed → accepted → in_progress → done → rated
    routed → declined → routed (re-routed at once), new/routed/accepted → cancelled,
    new/routed/accepted → routed by transfer; `escalated` is a flag, not a state.

    state.py       the transition primitive (conditional UPDATE + event), run in services.uow.unit
    access.py      who may handle, view, speak for the resident, place for a station
    notices.py     what a transition tells the resident and whoever holds the order
    cards.py       the cards an order left in chats, edited once it is taken or cancelled
    units.py       站所接单: which units receive an order, its suggested team, unit queues
    routing.py     receiving a new order, who should take it now (team, squad, lead unit,
                   office) and handing it on
    placing.py     creating an order (also on a resident's behalf)
    dispatch.py    accept, decline, transfer, cancel
    desk.py        派单 by a lead unit's dispatcher, re-dispatch; the office's triage of
                   «其他需求» orders and its reply
    assignment.py  volunteers and a slot, withdraw, start
    completion.py  complete with photos and hours, confirm the hours, rate
    sla.py         the order's clocks: accept nudge, escalation (time-out), overdue, rate
    queries.py     reading orders for screens

Inside, imports go one way: state and access at the bottom; notices, units and routing on
them; sla on those; placing, dispatch, desk, assignment, completion and queries on top. Callers use
this package's exports (and `services.orders.routing` / `.sla` by name).
"""

from services.attachments import PhotoIn
from services.orders import desk, routing, sla, units
from services.orders.access import can_handle, can_view, proxy_station_ids
from services.orders.assignment import assign, start, withdraw, withdraw_from
from services.orders.completion import (
    MAX_HOURS,
    MAX_PHOTOS,
    add_rating_comment,
    complete,
    confirm_hours,
    may_complete,
    rate,
)
from services.orders.desk import (
    answered,
    answered_flag,
    need_to_redispatch,
    need_to_triage,
    redispatch,
    reply_to_resident,
    triage,
)
from services.orders.dispatch import (
    accept,
    cancel,
    cancellable,
    decline,
    repeatable,
    transfer,
)
from services.orders.placing import (
    MAX_DESCRIPTION,
    AttachmentIn,
    create_order,
    create_proxy_resident,
    placed_with_token,
)
from services.orders.queries import (
    HistoryLine,
    get_order,
    history,
    office_open_orders,
    order_contact,
    order_in_hand,
    order_roster,
    resident_orders,
    sent_volunteers,
    station_orders,
    team_open_orders,
    transfer_target,
    transfer_teams,
    viewable_order,
    volunteer_tasks,
)
from services.orders.sla import time_out
from services.orders.state import (
    ACTIVE_ASSIGNMENT,
    MAX_NOTE,
    OPEN_STATUSES,
    display_name,
    transition,
)
from services.orders.units import Trail, dispatch_targets, may_dispatch, trail, unit_queue

# The 派单 service. Bound last: importing the module `services.orders.dispatch` (accept,
# decline, …) sets the package attribute of that name to the module.
dispatch = desk.dispatch

__all__ = [
    "ACTIVE_ASSIGNMENT",
    "MAX_DESCRIPTION",
    "MAX_HOURS",
    "MAX_NOTE",
    "MAX_PHOTOS",
    "OPEN_STATUSES",
    "AttachmentIn",
    "HistoryLine",
    "PhotoIn",
    "Trail",
    "accept",
    "add_rating_comment",
    "answered",
    "answered_flag",
    "assign",
    "can_handle",
    "can_view",
    "cancel",
    "cancellable",
    "complete",
    "confirm_hours",
    "create_order",
    "create_proxy_resident",
    "decline",
    "desk",
    "dispatch",
    "dispatch_targets",
    "display_name",
    "get_order",
    "history",
    "may_complete",
    "may_dispatch",
    "need_to_redispatch",
    "need_to_triage",
    "office_open_orders",
    "order_contact",
    "order_in_hand",
    "order_roster",
    "placed_with_token",
    "proxy_station_ids",
    "rate",
    "redispatch",
    "repeatable",
    "reply_to_resident",
    "resident_orders",
    "routing",
    "sent_volunteers",
    "sla",
    "start",
    "station_orders",
    "team_open_orders",
    "time_out",
    "trail",
    "transfer",
    "transfer_target",
    "transfer_teams",
    "transition",
    "triage",
    "unit_queue",
    "units",
    "viewable_order",
    "volunteer_tasks",
    "withdraw",
    "withdraw_from",
]
