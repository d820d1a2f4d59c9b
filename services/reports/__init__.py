"""Report figures for office staff (whole town) and station heads (their village).

A report describes the orders *placed* in a period (a cohort: every figure about orders —
counts, times, completion rate, satisfaction — is about the same set), plus the volunteer
hours *booked* in the period (the confirmed ledger). Periods are calendar weeks, months,
years or custom date ranges in local time (settings.tz), turned into UTC bounds
`[start, end)` for the queries.

Statistics:
- time to accept = `accepted_at − created_at`, time to complete = `done_at − created_at`,
  over the orders that have the timestamp;
- median and 90th percentile by linear interpolation between the closest ranks (numpy's
  default, Excel's PERCENTILE.INC): the p-th value of n sorted values sits at rank
  `(n − 1) · p`, and a fractional rank interpolates between its neighbours;
- completion rate (办结率) = (done + rated) ÷ (all orders except cancelled); None with no
  such orders;
- overdue = accepted or in progress, with a slot whose end has passed;
- escalated = carries the escalated flag (not accepted in time at least once);
- satisfaction = mean and 1–5 distribution of the ratings of the period's orders;
- volunteer hours = the sum of ledger hours booked in the period (they are booked when a
  leader confirms them), corrections included. A ledger line belongs to the order's
  station, else the activity's station, else the volunteer's own station.

No aiogram here: the chat, the dashboard and the command line share these functions.

    scope.py    who sees what; periods and their UTC bounds; parsing dates
    stats.py    percentiles and formatting (durations, numbers, rates), status names
    figures.py  the report, its breakdowns, the hours, and the volunteers' rows
"""

from services.reports.figures import (
    Count,
    OrderRow,
    Report,
    VolunteerRow,
    build_report,
    hours_by_station,
    hours_by_user,
    order_rows,
    rating_scores,
    volunteer_rows,
)
from services.reports.scope import (
    MAX_CUSTOM_DAYS,
    PERIOD_KINDS,
    Period,
    Scope,
    current_period,
    custom_period,
    local_today,
    make_period,
    parse_date,
    parse_date_range,
    parse_period_code,
    scope_for,
    stations_in,
    this_month,
    this_week,
    this_year,
    towns_of,
)
from services.reports.stats import (
    CENT,
    FINISHED,
    OVERDUE_STATUSES,
    STATUS_NAMES,
    STATUS_ORDER,
    dec,
    format_duration,
    format_number,
    format_rate,
    percentile,
    status_name,
)

__all__ = [
    "CENT",
    "FINISHED",
    "MAX_CUSTOM_DAYS",
    "OVERDUE_STATUSES",
    "PERIOD_KINDS",
    "STATUS_NAMES",
    "STATUS_ORDER",
    "Count",
    "OrderRow",
    "Period",
    "Report",
    "Scope",
    "VolunteerRow",
    "build_report",
    "current_period",
    "custom_period",
    "dec",
    "format_duration",
    "format_number",
    "format_rate",
    "hours_by_station",
    "hours_by_user",
    "local_today",
    "make_period",
    "order_rows",
    "parse_date",
    "parse_date_range",
    "parse_period_code",
    "percentile",
    "rating_scores",
    "scope_for",
    "stations_in",
    "status_name",
    "this_month",
    "this_week",
    "this_year",
    "towns_of",
    "volunteer_rows",
]
