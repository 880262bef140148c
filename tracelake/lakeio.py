"""Reading and writing the lake's Parquet: atomic writes, partition listing, id look-ups."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet_atomic(table: pa.Table | pl.DataFrame, path: Path, schema: pa.Schema) -> Path:
    """Write a Parquet file under a temporary name, then rename it into place."""
    if isinstance(table, pl.DataFrame):
        table = table.to_arrow()
    table = table.select(schema.names).cast(schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write a small file (a record, a quarantined original) under a temporary name, then
    rename it into place: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def parquet_files(folder: Path) -> list[Path]:
    """Committed Parquet files under a folder (temporary files of a crashed write excluded)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith("."))


def scan(folder: Path, schema: pa.Schema) -> pl.LazyFrame:
    """Lazy scan of every committed file of a table; an empty frame when there is none."""
    files = parquet_files(folder)
    if not files:
        return pl.from_arrow(schema.empty_table()).lazy()  # type: ignore[union-attr]
    return pl.scan_parquet(files, hive_partitioning=False, missing_columns="insert")


def known_ids(folder: Path, column: str) -> set[str]:
    """The distinct values of an id column across a table's files."""
    files = parquet_files(folder)
    if not files:
        return set()
    ids = pl.scan_parquet(files, hive_partitioning=False).select(column).unique().collect()
    return set(ids.get_column(column).to_list())
