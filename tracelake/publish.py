"""Publish: a validated build replaces the warehouse in one atomic rename."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import duckdb
from deltalake import DeltaTable, write_deltalake

from tracelake.crashpoints import pause_here
from tracelake.lake import Lake
from tracelake.processes import die_with_parent

EXPORT_BATCH = 100_000  # rows of a mart handed to the lake's writer at a time
# DuckDB's memory while exporting the marts: its buffer pool would otherwise keep every block
# it read, up to most of the machine's memory (the Parquet export held 750 MB at 100,000
# documents, 340 MB with this limit).
EXPORT_DUCKDB: dict[str, str | bool | int | float | list[str]] = {"memory_limit": "256MB"}


def _marts(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, duckdb.DuckDBPyRelation]]:
    """Each table of schema marts, by name, as a relation (the name is a quoted identifier:
    no path or name enters SQL text unquoted)."""
    tables = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    for (table,) in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        yield table, con.sql(f"select * from marts.{quoted}")


def export_apart(warehouse: Path, folder: Path, lake: Lake) -> dict[str, int]:
    """export_everywhere in a process of its own, which gives its memory back as it ends: the
    exports held up to 1.3 GB at 100,000 documents, and the run's process would have kept it
    (its peak, 2 GB, was there). Returns the marts' Delta versions."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=die_with_parent) as child:
        return child.submit(export_everywhere, warehouse, folder, lake).result()


def export_everywhere(warehouse: Path, folder: Path, lake: Lake) -> dict[str, int]:
    """The marts as Parquet files (export_marts) and as Delta tables in the lake
    (export_marts_to_lake), both at once: DuckDB and delta-rs let go of the GIL."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-marts") as side:
        files = side.submit(export_marts, warehouse, folder)
        versions = export_marts_to_lake(warehouse, lake)
        files.result()
    return versions


def export_marts(warehouse: Path, folder: Path) -> list[Path]:
    """Write every table of schema marts as Parquet, for tools that do not read DuckDB."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(warehouse), read_only=True, config=EXPORT_DUCKDB) as con:
        for table, rows in _marts(con):
            path = folder / f"{table}.parquet"
            tmp = folder / f".{table}.parquet.tmp"
            rows.write_parquet(str(tmp), compression="zstd")
            os.replace(tmp, path)
            written.append(path)
    return written


def export_marts_to_lake(warehouse: Path, lake: Lake) -> dict[str, int]:
    """Write every table of schema marts as a Delta table under the lake (marts/<table>), one
    commit each, replacing the last: analysts on another machine read the same marts from
    the lake's URL. Returns each table's new Delta version."""
    versions = {}
    with duckdb.connect(str(warehouse), read_only=True, config=EXPORT_DUCKDB) as con:
        for table, rows in _marts(con):
            uri = lake.mart_uri(table)
            # handed over a batch at a time (delta-rs still gathers a table's file: 300 MB
            # for dim_articles at 100,000 documents, against 440 MB as one Arrow table)
            batches = rows.to_arrow_reader(EXPORT_BATCH)
            write_deltalake(uri, batches, mode="overwrite", schema_mode="overwrite",
                            storage_options=lake.storage_options)  # fmt: skip
            versions[table] = DeltaTable(uri, storage_options=lake.storage_options).version()
    return versions


def start_build(build: Path, published: Path | None) -> None:
    """The file a build starts from: a copy of the published warehouse (an incremental build,
    whose incremental marts then only add rows), else none (dbt makes every table)."""
    import shutil

    for leftover in (build, build.with_name(build.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if published is not None:
        shutil.copyfile(published, build)


def publish(build: Path, target: Path) -> Path:
    """Move the finished build over the published warehouse (same folder, so one rename).

    Readers that opened the old file keep reading it; new connections see the new build.
    A retry after a failure past the first move picks the build up where it was left.
    """
    if build.parent.resolve() != target.parent.resolve():
        staged = incoming_path(target)
        if build.exists() or not staged.exists():
            os.replace(build, staged) if _same_device(build, target) else _copy(build, staged)
        build = staged
    pause_here("publish")  # test-only: crash tests kill a run here (see tracelake.crashpoints)
    with open(build, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(build, target)
    _fsync_dir(target.parent)
    return target


def incoming_path(target: Path) -> Path:
    """Where a build waits, beside the warehouse, for the final rename."""
    return target.with_name(f".{target.name}.incoming")


def _same_device(a: Path, b: Path) -> bool:
    return os.stat(a.parent).st_dev == os.stat(b.parent).st_dev


def _copy(source: Path, dest: Path) -> None:
    import shutil

    shutil.copyfile(source, dest)
    source.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
