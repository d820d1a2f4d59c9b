"""Errors of every handler, in one place: a refusal by a rule of the domain (DomainError) is
told to the person in their language; anything else is logged and gets a translated apology
and a usable conversation."""

from __future__ import annotations

import logging
from typing import cast

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _

from services.errors import DomainError

log = logging.getLogger("civic_dispatch.errors")


async def refuse(event: ErrorEvent, event_from_user: TgUser | None = None) -> bool:
    exc = cast(DomainError, event.exception)  # the filter lets only these through
    update = event.update
    user_id = event_from_user.id if event_from_user is not None else None
    query = update.callback_query
    log.info(
        "refused %s for user %s: %s", query.data if query else "a message", user_id, exc.message
    )
    text = _(exc.message).format(**exc.params)
    if query is not None:  # a pop-up they must dismiss; it also stops the spinner
        await query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)
    return True


async def on_error(event: ErrorEvent, event_from_user: TgUser | None = None) -> bool:
    update = event.update
    # aiogram's user-context middleware found the user for any kind of update.
    user_id = event_from_user.id if event_from_user is not None else None
    message: Message | None = update.message
    if update.callback_query is not None:
        msg = update.callback_query.message
        message = msg if isinstance(msg, Message) else None
    # The one log line of this failure; the log set-up masks phone numbers in it.
    log.error(
        "update %s from user %s failed: %s",
        update.update_id,
        user_id,
        type(event.exception).__name__,
        exc_info=event.exception,
        extra={"update_id": update.update_id, "user_id": user_id},
    )
    if update.callback_query is not None:
        try:  # the phone spins until the query is answered; stop it, with the apology
            await update.callback_query.answer(
                _("Sorry, something went wrong on our side. Please try again, or send /start."),
                show_alert=True,
            )
            return True
        except Exception:
            log.warning("could not answer the failed callback of update %s", update.update_id)
    if message is not None:
        try:
            await message.answer(
                _("Sorry, something went wrong on our side. Please try again, or send /start.")
            )
        except Exception:  # the apology itself must never raise again
            log.warning("could not apologise for update %s", update.update_id)
    return True


def router() -> Router:
    r = Router(name="errors")
    # First: a refusal is an answer, not a failure (handlers do not catch DomainError).
    r.errors.register(refuse, ExceptionTypeFilter(DomainError))
    r.errors.register(on_error)
    return r
