"""activity place coordinates, for check-in by location"""

import sqlalchemy as sa

from migrations.helpers import add_columns, drop_columns

revision = "0002_activity_place"
down_revision = "0001"


def upgrade() -> None:
    add_columns(
        "activities",
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    drop_columns("activities", "longitude", "latitude")
