"""/start: greet, register a new resident (village → name → phone), or open an invite."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.start import greet, name, phone, unexpected, village


def router() -> Router:
    return include("start", greet, village, name, phone, unexpected)
