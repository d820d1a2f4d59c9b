"""users.roles_version: a stamp the database raises whenever what a person may do changes
(an appointment, a team membership, a team closed or reopened), so a worker can keep their
roles in memory and see a change on the very next update. Triggers raise it, whatever code
or SQL made the change.

Revision ID: 0007_roles_version
Revises: 0006_checkin_tries
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_roles_version"
down_revision: str | Sequence[str] | None = "0006_checkin_tries"
# No branch labels and no dependencies (alembic's defaults).

BUMP = "UPDATE users SET roles_version = roles_version + 1 WHERE id"
MEMBERS_OF = "(SELECT user_id FROM team_members WHERE team_id = {}.id)"

SQLITE = [
    *(
        f"CREATE TRIGGER {table}_roles_{when.lower()} AFTER {when} ON {table} "
        f"BEGIN {BUMP} IN ({users}); END"
        for table in ("staff_roles", "team_members")
        for when, users in (
            ("INSERT", "NEW.user_id"),
            ("UPDATE", "OLD.user_id, NEW.user_id"),
            ("DELETE", "OLD.user_id"),
        )
    ),
    "CREATE TRIGGER teams_roles_update AFTER UPDATE OF active ON teams "
    f"WHEN OLD.active IS NOT NEW.active BEGIN {BUMP} IN {MEMBERS_OF.format('NEW')}; END",
]
SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_roles_{when}"
        for table in ("staff_roles", "team_members")
        for when in ("insert", "update", "delete")
    ),
    "DROP TRIGGER IF EXISTS teams_roles_update",
]

POSTGRES = [
    f"""CREATE FUNCTION bump_roles_version() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'teams' THEN
        {BUMP} IN {MEMBERS_OF.format("NEW")};
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN {BUMP} = OLD.user_id; END IF;
    IF TG_OP <> 'DELETE' THEN {BUMP} = NEW.user_id; END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    *(
        f"CREATE TRIGGER {table}_roles AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION bump_roles_version()"
        for table in ("staff_roles", "team_members")
    ),
    "CREATE TRIGGER teams_roles AFTER UPDATE OF active ON teams FOR EACH ROW "
    "WHEN (OLD.active IS DISTINCT FROM NEW.active) EXECUTE FUNCTION bump_roles_version()",
]
POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {t}_roles ON {t}" for t in ("staff_roles", "team_members")),
    "DROP TRIGGER IF EXISTS teams_roles ON teams",
    "DROP FUNCTION IF EXISTS bump_roles_version()",
]


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roles_version", sa.Integer(), nullable=False, server_default="0")
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("roles_version")
