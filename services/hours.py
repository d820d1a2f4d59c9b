"""Hours of service as people type them, one reading for every screen that asks.

"1.5", "1,5", "2h", "２" and a Decimal all read the same; anything that is not a finite
number of hours in (0, most] — "NaN", "inf", "-1", "abc" — is refused with the one message
every screen shows, never let through to a comparison that raises.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.errors import DomainError
from services.i18n import N_

MAX_HOURS = Decimal(24)
CENT = Decimal("0.01")


def parse_hours(value: object, *, most: Decimal = MAX_HOURS) -> Decimal:
    """`value` as hours rounded to cents, more than 0 and at most `most`; else DomainError."""
    text = str(value).strip().replace(",", ".").removesuffix("h").strip()
    try:
        hours = Decimal(text)
        if hours.is_finite():
            hours = hours.quantize(CENT, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        hours = Decimal("NaN")
    if not (hours.is_finite() and Decimal(0) < hours <= most):
        raise DomainError(N_("Hours must be more than 0 and at most {max}."), max=f"{most:f}")
    return hours


def per_head(hours: Decimal, people: int) -> Decimal | None:
    """Hours per person, to the cent; None when there is nobody to share them."""
    return (hours / people).quantize(CENT, ROUND_HALF_UP) if people else None
