"""One-statement "add to a counter, creating the row if needed" (PostgreSQL and SQLite
both speak INSERT … ON CONFLICT … DO UPDATE)."""

from collections.abc import Sequence

from django.db import connection

CHUNK = 300  # rows per statement (SQLite's parameter limit)


def increment(model, key_fields: Sequence[str], value_field: str, rows: Sequence[tuple]) -> None:
    """For each (key…, delta) in `rows`: value_field += delta, inserting delta if absent."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(f).column for f in (*key_fields, value_field)]
    quoted = [connection.ops.quote_name(c) for c in columns]
    value = quoted[-1]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # Several rows for one key would make one statement update a row twice: merge first.
    merged: dict[tuple, float] = {}
    for row in rows:
        merged[tuple(row[:-1])] = merged.get(tuple(row[:-1]), 0) + row[-1]
    # In key order: two transactions adding to overlapping rows lock them in the same
    # order, so they wait for each other instead of deadlocking.
    items = sorted(merged.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            params = [p for key, delta in chunk for p in (*key, delta)]
            cursor.execute(
                # Identifiers from model metadata, quoted; values are parameters.
                f"INSERT INTO {table} ({', '.join(quoted)}) VALUES "  # noqa: S608
                + ", ".join([placeholders] * len(chunk))
                + f" ON CONFLICT ({', '.join(quoted[:-1])}) DO UPDATE SET "
                f"{value} = {table}.{value} + excluded.{value}",
                params,
            )
