"""units as actors: dispatchers, dispatch modes, the party member's work unit, «其他需求»

Downgrading refuses while a «其他需求» order without a category exists (category_id goes
back to NOT NULL): triage or delete those first.
"""

import sqlalchemy as sa
from alembic import op

from migrations.helpers import add_columns, add_reference, drop_columns, drop_reference

revision = "0003_units_dispatch"
down_revision = "0002_activity_place"


def _dispatch_column() -> sa.Column:
    mode = sa.Enum("auto", "manual", name="dispatchmode", native_enum=False, length=8)
    return sa.Column("dispatch", mode, nullable=False, server_default="auto")


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        add_reference(batch_op, "invites", "unit_id", "units")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        add_reference(batch_op, "orders", "platform_id", "platforms")
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=True)

    add_columns("platforms", _dispatch_column())

    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        add_reference(batch_op, "staff_roles", "unit_id", "units", index=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_staff_roles_user_id_role_unit_id"), ["user_id", "role", "unit_id"]
        )

    add_columns("teams", _dispatch_column())

    with op.batch_alter_table("users", schema=None) as batch_op:
        add_reference(batch_op, "users", "work_unit_id", "units", index=True)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        drop_reference(batch_op, "users", "work_unit_id", "units", index=True)

    drop_columns("teams", "dispatch")

    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_roles_user_id_role_unit_id"), type_="unique")
        drop_reference(batch_op, "staff_roles", "unit_id", "units", index=True)

    drop_columns("platforms", "dispatch")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=False)
        drop_reference(batch_op, "orders", "platform_id", "platforms")

    with op.batch_alter_table("invites", schema=None) as batch_op:
        drop_reference(batch_op, "invites", "unit_id", "units")
