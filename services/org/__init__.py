"""The org chart: load and check the YAML config, sync it into the database, summarise it.

    schema.py     the config's shape, and the policy block (SLA, reminders, points, KPI)
    loading.py    strict YAML, validation and cross-reference checks, every problem at once
    sync.py       the config into the database (create, update, retire by code)
    catalogue.py  reading it back: stations, areas and categories for the menus; `org show`

Codes in a config file are local to its town. In the database every code below the town
is prefixed with the town code and a dot (`free_clinic` in taole.yaml is stored as
`taole.free_clinic`), so several towns load side by side into one database. The county
and town codes are stored as written (the county row is shared by its towns).
"""

from services.org.catalogue import categories_in_area, org_summary, service_areas, station_choices
from services.org.loading import OrgConfigError, load_org_config, parse_org_config
from services.org.schema import (
    KpiTargets,
    OrgConfig,
    PointsPolicy,
    Policy,
    ScorecardWeights,
    SlaPolicy,
    VolunteerReminders,
    parse_duration,
    qualify,
)
from services.org.sync import SYNC_KINDS, KindCounts, SyncReport, sync_org

__all__ = [
    "SYNC_KINDS",
    "KindCounts",
    "KpiTargets",
    "OrgConfig",
    "OrgConfigError",
    "PointsPolicy",
    "Policy",
    "ScorecardWeights",
    "SlaPolicy",
    "SyncReport",
    "VolunteerReminders",
    "categories_in_area",
    "load_org_config",
    "org_summary",
    "parse_duration",
    "parse_org_config",
    "qualify",
    "service_areas",
    "station_choices",
    "sync_org",
]
