"""The lake: Delta Lake tables (delta-rs) under a local folder or an object-store URL.

Every write is one Delta commit: a reader, or the next run after a crash, sees a batch whole
or not at all, on a local disk as on S3 (where a rename is not atomic, Delta's commit is a
put that fails when another writer took the version). Tables, by name:

    raw_documents   raw/documents           partitioned by ingest_date, append-only
    articles        staged/articles         partitioned by extractor_version
    statistics      staged/statistics       "
    entities        staged/entities         "
    processed       staged/processed        the ledger: which batches are whole
    incident_links  staged/incident_links   partitioned by extractor_version, matcher_version
    incident_keys   staged/incident_keys    "  (the matcher's keys of the articles it has seen)
    quarantine      quarantine              files that could not be landed, with their bytes

The URL is a local path or what delta-rs reads (s3://bucket/prefix, ...); credentials and
the endpoint come from the environment (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from tracelake.lake import PARTITIONS, TABLES, Lake

if TYPE_CHECKING:  # Arrow's datasets import pandas, half a second: only dbt's reads need them
    import pyarrow.dataset as ds

BATCH_KEY = "batch_key"  # the staged tables' column naming the batch that wrote a row
WRITER = WriterProperties(compression="ZSTD")
# A commit that conflicts with another writer's (Delta's optimistic concurrency) is tried
# again on the new version this many times in all.
COMMIT_ATTEMPTS = 5
WRITE_BATCH = 100_000  # rows made ready for the writer at a time (write)


def sql_text(value: str) -> str:
    """A string literal for a Delta predicate."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(sql_text(v) for v in values) + ")"


def open_table(lake: Lake, table: str, version: int | None = None) -> DeltaTable | None:
    """The table (at a version, else the latest), or None when it has no commit yet."""
    try:
        return DeltaTable(lake.uri(table), version=version, storage_options=lake.storage_options)
    except TableNotFoundError:
        return None


def version(lake: Lake, table: str) -> int | None:
    found = open_table(lake, table)
    return None if found is None else found.version()


def versions(lake: Lake) -> dict[str, int | None]:
    """The latest version of every table (None: not created yet)."""
    return {table: version(lake, table) for table in TABLES}


def full_schema(table: str, schema: pa.Schema) -> pa.Schema:
    """A table's schema in the lake: its own columns, then the lake's bookkeeping ones."""
    extra = [n for n in (*PARTITIONS[table], *_batch_key(table)) if n not in schema.names]
    return pa.schema([*schema, *(pa.field(name, pa.string()) for name in extra)])


def _batch_key(table: str) -> tuple[str, ...]:
    return (BATCH_KEY,) if table in {"articles", "statistics", "entities", "processed"} else ()


def scan(
    lake: Lake,
    table: str,
    schema: pa.Schema,
    where: Mapping[str, str] | None = None,
    version: int | None = None,
) -> pl.LazyFrame:
    """Lazy scan of a table's rows (where: partition values to keep: only their files are
    read); an empty frame of the schema when the table has no commit yet or no such rows.

    Polars reads the files itself, from the file list of the version (delta-rs gives paths
    percent-encoded, which Polars' scan_delta does not decode: a lake under a folder with a
    space in its name would not be found)."""
    found = open_table(lake, table, version)
    # from_batches, not Schema.empty_table: that one imports pandas (half a second)
    no_rows = pa.Table.from_batches([], schema=full_schema(table, schema))
    empty = pl.LazyFrame(schema=pl.from_arrow(no_rows).schema)  # type: ignore[union-attr]
    if found is None:
        return _filtered(empty, where)
    columns, files = _files(found, where)
    if not files:
        return _filtered(empty, where)
    frame = pl.scan_parquet(
        files,
        hive_partitioning=bool(columns),
        hive_schema=pl.Schema({c: pl.String for c in columns}) if columns else None,  # PARTITIONS
        missing_columns="insert",
        extra_columns="ignore",
        storage_options=lake.storage_options,
    )
    return _filtered(frame, where)


def _files(found: DeltaTable, where: Mapping[str, str] | None) -> tuple[list[str], list[str]]:
    """The table's partition columns, and the URIs of its files in the partitions named
    (decoded: delta-rs percent-encodes them)."""
    columns = found.metadata().partition_columns
    partitions = [(k, "=", v) for k, v in (where or {}).items() if k in columns]
    uris = found.file_uris(partition_filters=partitions or None)
    return columns, [unquote(uri) for uri in uris]


def _filtered(frame: pl.LazyFrame, where: Mapping[str, str] | None) -> pl.LazyFrame:
    for column, value in (where or {}).items():
        frame = frame.filter(pl.col(column) == value)
    return frame


def file_uris_of(found: DeltaTable) -> list[str]:
    """The URIs of the files of a table at the version `found` is at, as `dataset` names them."""
    return _files(found, None)[1]


def file_uris(
    lake: Lake, table: str, version: int, where: Mapping[str, str] | None = None
) -> set[str] | None:
    """The URIs of a table's files at a version (in the partitions named), or None when that
    version can no longer be read (its log was cleaned up)."""
    try:
        found = open_table(lake, table, version)
    except DeltaError:
        return None
    return None if found is None else set(_files(found, where)[1])


def dataset(
    lake: Lake,
    found: DeltaTable,
    where: Mapping[str, str] | None = None,
    leave_out: Collection[str] = (),
) -> ds.Dataset:
    """An Arrow dataset of the table's files at the version `found` is at (only those of the
    partitions named, less the files of leave_out), for DuckDB.

    Built on Arrow's own file systems from the file list: a dataset on delta-rs's file system
    (DeltaTable.to_pyarrow_dataset) leaves threads that abort the process at exit ("terminate
    called without an active exception") about one time in two."""
    import pyarrow.dataset as ds

    columns, files = _files(found, where)
    if leave_out:
        files = [uri for uri in files if uri not in leave_out]
    schema = pa.schema(found.schema().to_arrow())
    root = unquote(found.table_uri.rstrip("/"))
    filesystem, strip = arrow_filesystem(lake)
    return ds.dataset(
        [strip(f) for f in files],
        schema=schema,
        format="parquet",
        filesystem=filesystem,
        partitioning=ds.partitioning(pa.schema([schema.field(c) for c in columns]), flavor="hive"),
        partition_base_dir=strip(root),
    )


def arrow_filesystem(lake: Lake) -> tuple[pafs.FileSystem, Callable[[str], str]]:
    """Arrow's file system for the lake, and how a (decoded) URI becomes a path on it."""
    if lake.is_local:
        return pafs.LocalFileSystem(), lambda uri: uri.removeprefix("file://")
    env = lake.storage_options or {}
    endpoint = env.get("AWS_ENDPOINT_URL", "")
    parsed = urlparse(endpoint) if endpoint else None
    s3 = pafs.S3FileSystem(
        access_key=env.get("AWS_ACCESS_KEY_ID"),
        secret_key=env.get("AWS_SECRET_ACCESS_KEY"),
        session_token=env.get("AWS_SESSION_TOKEN"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_override=parsed.netloc if parsed else None,
        scheme=parsed.scheme if parsed else "https",
    )
    return s3, lambda uri: uri.split("://", 1)[-1]


def known_ids(
    lake: Lake, table: str, schema: pa.Schema, column: str, where: Mapping[str, str] | None = None
) -> set[str]:
    """The distinct values of an id column."""
    ids = scan(lake, table, schema, where).select(column).unique().collect()
    return set(ids.get_column(column).to_list())


def write(
    lake: Lake,
    table: str,
    frame: pa.Table | pl.DataFrame,
    schema: pa.Schema,
    columns: Mapping[str, str] | None = None,
    replace_where: str | None = None,
) -> None:
    """One commit: append the rows (with the lake's columns set to `columns`), or, given
    replace_where, replace the rows it matches by these (a retried batch never doubles).

    The rows go to the writer WRITE_BATCH at a time, each made ready (its columns cast, the
    lake's columns added) as the writer asks for it: a whole table made ready at once held
    two or three copies of it (300 MB more for a first run's two million incident keys)."""
    target = full_schema(table, schema)

    def ready(part: pa.Table | pl.DataFrame) -> pa.Table:
        data = (part.to_arrow() if isinstance(part, pl.DataFrame) else part).select(schema.names)
        data = data.cast(schema)
        for name, value in (columns or {}).items():
            column = pa.array([value] * len(data), pa.string())
            if name in data.column_names:
                data = data.set_column(data.column_names.index(name), name, column)
            else:
                data = data.append_column(pa.field(name, pa.string()), column)
        return data.select(target.names).cast(target)

    def batches() -> Iterable[pa.RecordBatch]:
        for start in range(0, len(frame), WRITE_BATCH):
            yield from ready(frame.slice(start, WRITE_BATCH)).to_batches()

    def data() -> pa.RecordBatchReader | pa.Table:
        if not len(frame):
            return ready(frame)  # no rows: the commit still makes the table and its schema
        return pa.RecordBatchReader.from_batches(target, batches())

    uri, partition_by, options = (
        lake.uri(table),
        list(PARTITIONS[table]) or None,
        lake.storage_options,
    )
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            if replace_where:
                write_deltalake(
                    uri, data(), mode="overwrite", predicate=replace_where,
                    partition_by=partition_by, storage_options=options, writer_properties=WRITER,
                )  # fmt: skip
            else:
                write_deltalake(
                    uri, data(), mode="append", partition_by=partition_by,
                    storage_options=options, writer_properties=WRITER,
                )  # fmt: skip
            return
        except CommitFailedError:
            # another writer committed what this commit read (replace_where): read again
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * 2**attempt)


def delete(lake: Lake, table: str, predicate: str) -> int:
    """Delete the rows a predicate matches (one commit when any); how many."""
    found = open_table(lake, table)
    if found is None:
        return 0
    metrics = found.delete(predicate)
    return int(metrics.get("num_deleted_rows", 0) or 0)


def ensure(lake: Lake, table: str, schema: pa.Schema) -> None:
    """Create the table (no rows) when it has no commit yet, so readers always find it."""
    if open_table(lake, table) is None:
        empty = full_schema(table, schema).empty_table()
        write_deltalake(
            lake.uri(table), empty, mode="append", writer_properties=WRITER,
            partition_by=list(PARTITIONS[table]) or None, storage_options=lake.storage_options,
        )  # fmt: skip


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write a small local file (a record, a report) under a temporary name, then rename it
    into place: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_parquet_atomic(table: pa.Table | pl.DataFrame, path: Path, schema: pa.Schema) -> Path:
    """A local Parquet file (the run's own records, not the lake), written then renamed."""
    import pyarrow.parquet as pq

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


def maintain(lake: Lake, retention_hours: float) -> dict[str, dict[str, int]]:
    """Compact every table's small files (a commit each, the rows unchanged), then delete the
    files no version younger than retention_hours reads (vacuum): time travel reaches back
    that far, no further. Per table: files compacted, files written, files vacuumed."""
    done: dict[str, dict[str, int]] = {}
    for table in TABLES:
        found = open_table(lake, table)
        if found is None:
            continue
        compacted = found.optimize.compact(writer_properties=WRITER)
        removed = found.vacuum(
            retention_hours=int(retention_hours),
            enforce_retention_duration=False,
            dry_run=False,
        )
        done[table] = {
            "files_compacted": int(compacted.get("numFilesRemoved", 0)),
            "files_written": int(compacted.get("numFilesAdded", 0)),
            "files_vacuumed": len(removed),
        }
    return done
