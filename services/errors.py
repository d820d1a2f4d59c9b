"""Domain errors. Each carries a translatable message id for the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused an action; `message` is a gettext msgid."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotAllowed(DomainError):
    """The actor has no right to do this (whatever the button said)."""


class NotFound(DomainError):
    """The thing referred to does not exist (or not for this actor)."""


class Conflict(DomainError):
    """The state moved on (someone else accepted first, a stale button, …)."""


class NotYourUnit(NotAllowed):
    """A dispatcher acting on an order its unit (站所) did not receive: a platform it does
    not lead, or a team its unit does not lead."""
