"""checkin_tries: wrong check-in codes per person and activity; activity_signups.
location_unverified: a check-in by a location that was not live"""

import sqlalchemy as sa
from alembic import op

from migrations.helpers import add_columns, drop_columns, foreign_key

revision = "0006_checkin_tries"
down_revision = "0005_large_print"


def upgrade() -> None:
    op.create_table(
        "checkin_tries",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        foreign_key("checkin_tries", "activity_id", "activities", ondelete="CASCADE"),
        foreign_key("checkin_tries", "user_id", "users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("activity_id", "user_id", name=op.f("pk_checkin_tries")),
    )
    unverified: sa.Column[bool] = sa.Column(
        "location_unverified", sa.Boolean(), nullable=False, server_default=sa.false()
    )
    add_columns("activity_signups", unverified)


def downgrade() -> None:
    drop_columns("activity_signups", "location_unverified")
    op.drop_table("checkin_tries")
