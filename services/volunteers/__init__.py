"""Volunteers: applying to a team and the leader's decision, leaving, deactivation, and the
institute's register (登记注册) imported from a CSV roster.

    common.py      limits, cleaning names and phones
    membership.py  apply, decide, leave, deactivate; memberships, joinable teams, rosters
    roster.py      the CSV roster import (command line) and its template

An application is a `TeamMember` row in status `pending`; the team's leaders are told with
Approve / Reject buttons (an outbox notice). Deciding is a conditional UPDATE on the
pending row, so two leaders tapping at once give one decision. Nothing is deleted: leaving
and deactivation set the membership to `left`, keeping who decided and why.
"""

from services.volunteers.common import (
    MAX_NAME,
    MAX_REASON,
    MAX_SKILLS,
    clean_phone,
    clean_text,
    phone_key,
)
from services.volunteers.membership import (
    Membership,
    apply,
    deactivate,
    decide,
    ever_volunteered,
    joinable_teams,
    leavable,
    leave,
    manageable_teams,
    managed_team,
    may_manage_team,
    memberships,
    removable_member_name,
    team_roster,
    teams,
)
from services.volunteers.roster import (
    REQUIRED_COLUMNS,
    ROSTER_COLUMNS,
    RosterError,
    RosterProblem,
    RosterReport,
    import_roster,
    roster_template,
)

__all__ = [
    "MAX_NAME",
    "MAX_REASON",
    "MAX_SKILLS",
    "REQUIRED_COLUMNS",
    "ROSTER_COLUMNS",
    "Membership",
    "RosterError",
    "RosterProblem",
    "RosterReport",
    "apply",
    "clean_phone",
    "clean_text",
    "deactivate",
    "decide",
    "ever_volunteered",
    "import_roster",
    "joinable_teams",
    "leavable",
    "leave",
    "manageable_teams",
    "managed_team",
    "may_manage_team",
    "memberships",
    "phone_key",
    "removable_member_name",
    "roster_template",
    "team_roster",
    "teams",
]
