"""Placing an order: area → category → what is needed → when → where → confirm.

Also used by station staff ordering on behalf of a resident without a smartphone: they
first give the resident's name, phone and village, then walk the same steps. The steps and
their order: states.py; moving between them: flow.py; one file per step.
"""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.ordering import (
    again,
    begin,
    choice,
    confirm,
    flow,
    heard,
    need,
    place,
    proxy,
    when,
)


def router() -> Router:
    # begin first: the menu buttons start over from any step;
    # heard: a need in their own words, instead of a choice;
    # flow last: «Back», and whatever no step took
    return include("ordering", begin, again, proxy, choice, need, when, place, confirm, heard, flow)
