"""Writing many rows at once: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection


def binding_cursor():
    """A cursor that sends its parameters beside the statement (server-side binding) on PostgreSQL, where Django's
    default cursor quotes every value into the statement's text (costly for arrays of thousands of ids); wrapped as
    Django wraps its own (query logging, execute wrappers). Elsewhere, the default cursor. Every parameter of a
    statement run through it must have a type PostgreSQL can tell (a column it is compared with, or a CAST)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    return connection._prepare_cursor(ServerBindingCursor(connection.connection))


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert `rows` (tuples in the order of `columns`) into `table`; raw SQL, so no model defaults apply."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            values = [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)  # noqa: S608  # nosec B608  # table and columns come from model metadata in code; the rows are parameters
