"""Shapes the migrations after the first repeat: columns added or dropped in batch mode (on
SQLite the table is rebuilt), and a column that refers to another table's id, named as the
models' naming convention names its foreign key and index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations


def add_columns(table: str, *columns: sa.Column) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in names:
            batch_op.drop_column(name)


def foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """`table.column` refers to `target.id` (for op.create_table)."""
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete)


def add_reference(
    batch_op: BatchOperations, table: str, column: str, target: str, *, index: bool = False
) -> None:
    """A nullable `column` referring to `target.id`, with its index when `index`."""
    batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
    if index:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
    batch_op.create_foreign_key(
        batch_op.f(f"fk_{table}_{column}_{target}"), target, [column], ["id"]
    )


def drop_reference(
    batch_op: BatchOperations, table: str, column: str, target: str, *, index: bool = False
) -> None:
    """Undoes add_reference."""
    batch_op.drop_constraint(batch_op.f(f"fk_{table}_{column}_{target}"), type_="foreignkey")
    if index:
        batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    batch_op.drop_column(column)
