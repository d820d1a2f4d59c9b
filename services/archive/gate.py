"""How many archives are made at once: one per person, and a few in all. An export reads the
database for seconds and writes a file of megabytes; twenty at once from one person (or the
dashboard's download link pressed twenty times) would hold up everything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from services.errors import Conflict
from services.i18n import N_

EXPORTS_AT_ONCE = 2


class ExportsBusy(Conflict):
    """Another export of this person's is in hand, or too many are."""


class ExportGate:
    """Counts exports in hand in this process (the bot and its dashboard share it)."""

    def __init__(self, at_once: int = EXPORTS_AT_ONCE) -> None:
        self.at_once = at_once
        self.busy: set[int] = set()

    @contextmanager
    def slot(self, person: int) -> Iterator[None]:
        """Hold a place for `person`'s export while the block runs (see `take`)."""
        self.take(person)
        try:
            yield
        finally:
            self.give_back(person)

    def take(self, person: int) -> None:
        """A place for `person`'s export; `ExportsBusy` if they have one in hand or all
        places are taken (they try again in a moment; nothing waits in a queue)."""
        if person in self.busy:
            raise ExportsBusy(N_("Your previous file is still being prepared. Please wait."))
        if len(self.busy) >= self.at_once:
            raise ExportsBusy(
                N_("Several files are being prepared right now. Please try again in a minute.")
            )
        self.busy.add(person)

    def give_back(self, person: int) -> None:
        self.busy.discard(person)


EXPORTS = ExportGate()
