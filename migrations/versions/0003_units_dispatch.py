"""units as actors: dispatchers, dispatch modes, the party member's work unit, «其他需求»

Revision ID: 0003_units_dispatch
Revises: 0002_activity_place
Create Date: 2026-12-01 03:00:00

Downgrading refuses while a «其他需求» order without a category exists (category_id goes
back to NOT NULL): triage or delete those first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_units_dispatch"
down_revision: str | Sequence[str] | None = "0002_activity_place"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dispatch_column() -> sa.Column:
    mode = sa.Enum("auto", "manual", name="dispatchmode", native_enum=False, length=8)
    return sa.Column("dispatch", mode, nullable=False, server_default="auto")


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invites_unit_id_units"), "units", ["unit_id"], ["id"]
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_platform_id_platforms"), "platforms", ["platform_id"], ["id"]
        )

    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.add_column(_dispatch_column())

    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_roles_unit_id"), ["unit_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_staff_roles_user_id_role_unit_id"), ["user_id", "role", "unit_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_staff_roles_unit_id_units"), "units", ["unit_id"], ["id"]
        )

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(_dispatch_column())

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_work_unit_id"), ["work_unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_work_unit_id_units"), "units", ["work_unit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_work_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_work_unit_id"))
        batch_op.drop_column("work_unit_id")

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("dispatch")

    with op.batch_alter_table("staff_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_staff_roles_unit_id_units"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_staff_roles_user_id_role_unit_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_staff_roles_unit_id"))
        batch_op.drop_column("unit_id")

    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_column("dispatch")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_platform_id_platforms"), type_="foreignkey")
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("platform_id")

    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invites_unit_id_units"), type_="foreignkey")
        batch_op.drop_column("unit_id")
