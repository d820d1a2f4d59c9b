"""An order event in the reader's language: what happened and its note, from the stored row.

`order_events.note` holds two sorts of text: what a person typed (a decline reason, a
completion note, a comment), shown as it is, and the trail the services write in a fixed
English form (routing.py, assignment.py, completion.py, placing.py, sla.py, dispatch.py).
The second sort is read back here and said again in the reader's language and local time;
a note in a form this module does not know is shown as stored, so nothing is ever hidden
(tests/test_event_text.py renders the notes the services really write).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

from services.i18n import N_, gettext
from services.wording import moment_text, number_text

EVENT_LABELS = {
    "created": N_("Order placed"),
    "routed": N_("Passed to a team"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "transferred": N_("Transferred"),
    "escalated": N_("Escalated"),
    "assigned": N_("Volunteers assigned"),
    "started": N_("Work started"),
    "done": N_("Done"),
    "rated": N_("Rated"),
    "cancelled": N_("Cancelled"),
    "hours_confirmed": N_("Hours confirmed"),
    "withdrawn": N_("A volunteer withdrew"),
    "comment": N_("Comment"),
    "received": N_("Received by the lead unit"),
    "dispatched": N_("Dispatched"),
    "redispatched": N_("Dispatched again"),
    "to_unit": N_("Back to the lead unit"),
    "triaged": N_("Sorted into a service"),
    "replied": N_("The office replied"),
    "answered": N_("Answered and closed"),
}

# The causes routing.route() is given (placing.py, sla.py, dispatch.py).
_NEW, _LATE = "new order", "not accepted in time"
_DECLINED_BY = "declined by "
_OFFICE = "the institute office"
_LABELS = {"team": N_("team {name}"), "station squad": N_("village squad {name}")}
_NONE = {"team": N_("the service has no team"), "station squad": N_("the village has no squad")}


@dataclass(frozen=True)
class EventText:
    what: str  # "Accepted", in the reader's language
    detail: str  # the note, said in the reader's language ("" for none)


def describe(
    kind: str,
    note: str | None,
    locale: str,
    tz: tzinfo,
    *,
    team_name: Callable[[str], str] = str,
) -> EventText:
    """`kind` and `note` of an order event for a reader in `locale` and time zone `tz`.
    `team_name` turns a team's Chinese name (as the trail stores it) into the reader's."""
    what = gettext(EVENT_LABELS[kind], locale) if kind in EVENT_LABELS else kind
    if not note:
        return EventText(what, "")
    reader = _Reader(locale, tz, team_name)
    said = reader.note(kind, note)
    return EventText(what, note if said is None else said)


@dataclass(frozen=True)
class _Reader:
    locale: str
    tz: tzinfo
    team_name: Callable[[str], str]

    def t(self, msgid: str, **params: object) -> str:
        return gettext(msgid, self.locale, **params)

    def note(self, kind: str, note: str) -> str | None:
        """The note in the reader's words; None for a form not known here."""
        handlers: Mapping[str, Callable[[str], str | None]] = {
            "created": self.created,
            "routed": self.routed,
            "escalated": self.escalated,
            "declined": self.declined,
            "transferred": self.transferred,
            "assigned": self.assigned,
            "started": self.started,
            "hours_confirmed": self.hours,
            "rated": self.rated,
            "withdrawn": lambda _note: "",  # the volunteer's name: already the actor
            "received": self.received,
            "dispatched": self.dispatched,
            "redispatched": self.redispatched,
            "to_unit": self.to_unit,
            "triaged": self.triaged,
            "replied": lambda said: said,  # the office's own words
            "answered": lambda said: said,
        }
        handler = handlers.get(kind)
        return note if handler is None else handler(note)  # typed by a person

    def created(self, note: str) -> str | None:
        m = re.fullmatch(r"placed by (.+) for (.+)", note, re.S)
        return self.t(N_("placed on behalf of {resident}"), resident=m[2]) if m else None

    # --- 站所接单 · 派单 (services/orders/units.py, desk.py, sla.py) -------------------------

    def received(self, note: str) -> str | None:
        if note == "a need in the resident's own words: to the institute office for triage":
            return self.t(N_("a need in the resident's own words: the office sorts it"))
        m = re.fullmatch(
            r"received by (.*) \((.+), dispatch (auto|manual)\); suggested team (.+)", note, re.S
        )
        if m is None:
            return None
        where = self.t(N_("no platform")) if m[2] == "no platform" else m[2]
        mode = self.t(N_("dispatched at once") if m[3] == "auto" else N_("a dispatcher picks"))
        offer = m[4].split(" (", 1)[0]
        team = self.t(N_("none")) if offer == "none" else self.team_name(offer)
        return self.t(
            N_("received by {units} ({platform}, {mode}); suggested team: {team}"),
            units=m[1] or "-",
            platform=where,
            mode=mode,
            team=team,
        )

    def dispatched(self, note: str) -> str | None:
        m = re.fullmatch(r"dispatched by (.+) to (.+)", note, re.S)
        if m is None:
            return None
        return self.t(N_("{name} passed it to {team}"), name=m[1], team=self.team_name(m[2]))

    def redispatched(self, note: str) -> str | None:
        m = re.fullmatch(r"re-dispatched by (.+?) from (.+?) to (.+?): (.*)", note, re.S)
        if m is None:
            return None
        old = self.t(N_("the institute office")) if m[2] == "the office" else self.team_name(m[2])
        return self.t(
            N_("{name} passed it from {old} to {new}: {why}"),
            name=m[1],
            old=old,
            new=self.team_name(m[3]),
            why=m[4],
        )

    def to_unit(self, note: str) -> str | None:
        if note == "not accepted in time: back to the lead unit to dispatch":
            return self.t(N_("not accepted in time: back to the lead unit to dispatch"))
        return None

    def triaged(self, note: str) -> str | None:
        m = re.fullmatch(r"sorted by (.+) into (.+)", note, re.S)
        if m is None:
            return None
        return self.t(N_("{name} sorted it into {service}"), name=m[1], service=m[2])

    def declined(self, note: str) -> str | None:
        return self.t(N_("not accepted in time")) if note == _LATE else note

    def routed(self, note: str) -> str | None:
        split = self._cause(note)
        if split is None:
            return None
        cause, rest = split
        parts = _every([self._skip(p) for p in rest.split("; ")[:-1]])
        chosen = self._chosen(rest.split("; ")[-1])
        if chosen is None or parts is None:
            return None
        return self._join([cause, *parts, self.t(N_("passed to {who}"), who=chosen)])

    def escalated(self, note: str) -> str | None:
        m = re.fullmatch(r"(.*): nobody can take it \((.*)\); left with the office", note, re.S)
        if m is None:
            return None
        cause = self._cause(m[1] + ": ")
        parts = _every([self._skip(p) for p in m[2].split("; ")] if m[2] else [])
        if cause is None or parts is None:
            return None
        return self._join(
            [cause[0], *parts, self.t(N_("nobody can take it; left with the office"))]
        )

    def transferred(self, note: str) -> str | None:
        m = re.fullmatch(r"from (.+?) to (.+?): (.*)", note, re.S)
        if m is None:
            return None
        old = self.t(N_("the institute office")) if m[1] == "the office" else self.team_name(m[1])
        return self.t(N_("from {old} to {new}: {why}"), old=old, new=self.team_name(m[2]), why=m[3])

    def assigned(self, note: str) -> str | None:
        names, _sep, times = note.rpartition("; ")
        start, _dash, end = times.partition(" – ")
        try:
            first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
        except ValueError:
            return None
        sep = ", " if self.locale == "en" else "、"
        return self.t(
            N_("{names}; {start} – {end}"),
            names=sep.join(names.split(", ")),
            start=local_time(first, self.tz, self.locale),
            end=local_time(last, self.tz)[-5:]
            if _same_day(first, last, self.tz)
            else local_time(last, self.tz, self.locale),
        )

    def started(self, note: str) -> str | None:
        return self.t(N_("when the work was recorded")) if note == "started on completion" else None

    def hours(self, note: str) -> str | None:
        m = re.fullmatch(r"(\d+) volunteer\(s\), ([\d.]+) h", note)
        if m is None:
            return None
        try:
            total = Decimal(m[2])
        except InvalidOperation:
            return None
        said = N_("volunteers: {n}; hours in all: {hours}")
        return self.t(said, n=m[1], hours=number_text(total))

    def rated(self, note: str) -> str | None:
        m = re.fullmatch(r"([1-5])/5(?:: (.*))?", note, re.S)
        if m is None:
            return None
        stars = "★" * int(m[1]) + "☆" * (5 - int(m[1]))
        return f"{stars} {m[2]}" if m[2] else stars

    # --- the routing trail -------------------------------------------------------------

    def _cause(self, note: str) -> tuple[str, str] | None:
        """(why routing ran, in the reader's words; the rest of the note)."""
        for cause, msgid in ((_NEW, N_("new order")), (_LATE, N_("not accepted in time"))):
            if note.startswith(cause + ": "):
                return self.t(msgid), note[len(cause) + 2 :]
        if not note.startswith(_DECLINED_BY):
            return None
        # "declined by NAME (WHY): …" where NAME and WHY were typed: find the split after
        # which the rest reads as a routing trail.
        body = note[len(_DECLINED_BY) :]
        for m in re.finditer(r"\): ", body):
            head, rest = body[: m.start()], body[m.end() :]
            who, bracket, why = head.partition(" (")
            if bracket and self._trail_ok(rest):
                return self.t(N_("declined by {who} ({why})"), who=who, why=why), rest
        return None

    def _trail_ok(self, rest: str) -> bool:
        if rest == "":
            return True  # the escalation's cause, checked by the caller
        parts = rest.split("; ")
        return all(self._skip(p) is not None for p in parts[:-1]) and (
            self._chosen(parts[-1]) is not None
        )

    def _chosen(self, part: str) -> str | None:
        if part == _OFFICE:
            return self.t(N_("the institute office"))
        for label, msgid in _LABELS.items():
            if part.startswith(label + " "):
                return self.t(msgid, name=self.team_name(part[len(label) + 1 :]))
        return None

    def _skip(self, part: str) -> str | None:
        """Why a candidate was passed over, in the reader's words."""
        if part == f"{_OFFICE} declined or passed it on":
            return self.t(N_("the institute office declined or passed it on"))
        if part == f"{_OFFICE} has no active staff":
            return self.t(N_("the institute office has no active staff"))
        for label, msgid in _LABELS.items():
            if part == f"{label}: none":
                return self.t(_NONE[label])
            for suffix, says in (
                (" declined or passed it on", N_("{who} declined or passed it on")),
                (" has no active leader", N_("{who} has no active leader")),
            ):
                if part.startswith(label + " ") and part.endswith(suffix):
                    name = part[len(label) + 1 : -len(suffix)]
                    return self.t(says, who=self.t(msgid, name=self.team_name(name)))
        return None

    def _join(self, parts: list[str]) -> str:
        return ("; " if self.locale == "en" else "；").join(parts)


def local_time(value: datetime, tz: tzinfo, locale: str | None = None) -> str:
    """A moment as every screen shows it: «12月2日 周三 14:30» in `tz`."""
    return moment_text(value, tz, locale)


def _same_day(a: datetime, b: datetime, tz: tzinfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def _every(items: list[str | None]) -> list[str] | None:
    """The items when each is known; None when any is not."""
    known = [item for item in items if item is not None]
    return known if len(known) == len(items) else None
