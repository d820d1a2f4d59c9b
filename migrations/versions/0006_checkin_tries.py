"""checkin_tries: wrong check-in codes per person and activity; activity_signups.
location_unverified: a check-in by a location that was not live

Revision ID: 0006_checkin_tries
Revises: 0005_large_print
Create Date: 2026-12-01 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_checkin_tries"
down_revision: str | Sequence[str] | None = "0005_large_print"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin_tries",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_checkin_tries_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_checkin_tries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "user_id", name=op.f("pk_checkin_tries")),
    )
    with op.batch_alter_table("activity_signups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "location_unverified", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_signups", schema=None) as batch_op:
        batch_op.drop_column("location_unverified")
    op.drop_table("checkin_tries")
