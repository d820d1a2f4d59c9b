"""Published activities (the plan's "six haves": activities and records).

A team leader or a station head publishes an activity — title, content, place, start and
end, capacity, for a team or a station, optionally repeated weekly. Its audience (the team's
members, or the station's residents and squad) gets a notice with a Sign-up button. Sign-ups
respect the capacity; the rest wait on a waitlist, and a cancellation promotes the first in
line. Reminders are durable rows the scheduler fires. At the activity the organiser takes
attendance (a list, a one-time code, or a location near the place) and adds photos; the
attended hours enter the points ledger once.

    access.py      limits; who may publish, manage, see and join; loading an activity
    publishing.py  publish (weekly series too), announce, reminders, cancel
    signups.py     sign up, cancel a sign-up (the waitlist moves up), places, what's coming
    attendance.py  attendance by list, code or location; finish (hours → points); photos

Every public function that changes something is one transaction (it commits), except the
scheduler hooks `fire_activity_reminder`, which flush and leave the commit to the caller.
"""

from services.activities.access import (
    CHECKIN_EARLY,
    CHECKIN_LATE,
    CHECKIN_RADIUS_M,
    EVENING_AT,
    HOUR_BEFORE,
    MAX_AHEAD,
    MAX_CAPACITY,
    MAX_CONTENT,
    MAX_HOURS,
    MAX_LENGTH,
    MAX_PHOTOS,
    MAX_PLACE,
    MAX_TITLE,
    MAX_WEEKS,
    NOTICE_LEAD,
    PhotoIn,
    audience,
    managed,
    may_join,
    may_manage,
    may_publish_for,
)
from services.activities.attendance import (
    WRONG_CODES_MAX,
    AttendanceLine,
    AttendanceSheet,
    add_photos,
    attendance,
    attendance_sheet,
    check_in_by_code,
    check_in_by_location,
    distance_m,
    finish,
    in_checkin_window,
    set_attended,
    toggle_attended,
)
from services.activities.publishing import (
    ActivityDraft,
    cancel_activity,
    fire_activity_reminder,
    new_checkin_code,
    publish,
    publishable_targets,
)
from services.activities.signups import (
    Places,
    SignupResult,
    cancel_signup,
    duration_hours,
    my_signup,
    places,
    sign_up,
    upcoming_for,
)

__all__ = [
    "CHECKIN_EARLY",
    "CHECKIN_LATE",
    "CHECKIN_RADIUS_M",
    "EVENING_AT",
    "HOUR_BEFORE",
    "MAX_AHEAD",
    "MAX_CAPACITY",
    "MAX_CONTENT",
    "MAX_HOURS",
    "MAX_LENGTH",
    "MAX_PHOTOS",
    "MAX_PLACE",
    "MAX_TITLE",
    "MAX_WEEKS",
    "NOTICE_LEAD",
    "WRONG_CODES_MAX",
    "ActivityDraft",
    "AttendanceLine",
    "AttendanceSheet",
    "PhotoIn",
    "Places",
    "SignupResult",
    "add_photos",
    "attendance",
    "attendance_sheet",
    "audience",
    "cancel_activity",
    "cancel_signup",
    "check_in_by_code",
    "check_in_by_location",
    "distance_m",
    "duration_hours",
    "finish",
    "fire_activity_reminder",
    "in_checkin_window",
    "managed",
    "may_join",
    "may_manage",
    "may_publish_for",
    "my_signup",
    "new_checkin_code",
    "places",
    "publish",
    "publishable_targets",
    "set_attended",
    "sign_up",
    "toggle_attended",
    "upcoming_for",
]
