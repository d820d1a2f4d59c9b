"""Hours as people type them: one reading (services/hours.py) for every screen, refusing
anything but a finite number in range with the usual translated message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.errors import DomainError
from services.hours import parse_hours
from services.i18n import gettext


@pytest.mark.parametrize(
    ("typed", "hours"),
    [
        ("1.5", "1.50"),
        ("1,5", "1.50"),
        (" 2h ", "2.00"),
        ("２", "2.00"),
        (Decimal("0.005"), "0.01"),
    ],
)
def test_hours_as_typed(typed: object, hours: str) -> None:
    assert parse_hours(typed) == Decimal(hours)


@pytest.mark.parametrize(
    "typed",
    [
        "NaN",
        "nan",
        "sNaN",
        "inf",
        "Infinity",
        "-inf",
        Decimal("NaN"),
        "0",
        "-1",
        "24.01",
        "",
        "abc",
        "1e400",
        None,
    ],
)
def test_anything_else_is_refused_with_the_usual_message(typed: object) -> None:
    with pytest.raises(DomainError) as err:
        parse_hours(typed)
    assert err.value.message == "Hours must be more than 0 and at most {max}."
    assert err.value.params == {"max": "24"}
    zh = gettext(err.value.message, "zh_CN", **err.value.params)
    assert zh == "服务时长（小时）须大于 0，且不超过 24。"


def test_a_smaller_limit() -> None:
    assert parse_hours("12", most=Decimal(12)) == Decimal(12)
    with pytest.raises(DomainError) as err:
        parse_hours("12.5", most=Decimal(12))
    assert err.value.params == {"max": "12"}
