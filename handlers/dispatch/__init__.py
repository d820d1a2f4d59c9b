"""站所接单 · 派单 in the chat: a lead unit's dispatcher picks the team for a waiting order;
re-dispatches one not yet accepted; the institute office sorts a «其他需求» order into a
service, or answers the resident."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.dispatch import pick, queue, redispatch, reply, triage


def router() -> Router:
    return include("dispatch", pick, queue, redispatch, triage, reply)
