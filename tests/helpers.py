"""Helpers the test modules share (plain functions; fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb

VOLATILE = ("run_id", "ingest_date")  # and every `*_at` column: when, not what


def mart_contents(warehouse: Path) -> dict[str, list[str]]:
    """Every marts table's rows, sorted, without the columns that say when a row was made."""
    contents = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        for (table,) in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if name not in VOLATILE and not name.endswith("_at")
            ]
            rows = con.execute(f"select {', '.join(columns)} from marts.{table}").fetchall()
            contents[table] = sorted(map(repr, rows))
    return contents
