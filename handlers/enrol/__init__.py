"""Joining a team: a resident applies (team → name → phone → skills → party member) and the
team's leader approves or rejects in the chat."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.enrol import apply, decide


def router() -> Router:
    return include("enrol", apply, decide)
