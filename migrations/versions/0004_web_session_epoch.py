"""users.web_epoch: signing out of the dashboard ends the session on the server"""

import sqlalchemy as sa

from migrations.helpers import add_columns, drop_columns

revision = "0004_web_session_epoch"
down_revision = "0003_units_dispatch"


def upgrade() -> None:
    add_columns("users", sa.Column("web_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    drop_columns("users", "web_epoch")
