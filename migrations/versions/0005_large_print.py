"""users.large_print: 大字大按钮, one tall button to a row for those who want it"""

import sqlalchemy as sa

from migrations.helpers import add_columns, drop_columns

revision = "0005_large_print"
down_revision = "0004_web_session_epoch"


def upgrade() -> None:
    add_columns(
        "users", sa.Column("large_print", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    drop_columns("users", "large_print")
