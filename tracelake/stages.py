"""The lake's stages as plain functions over batches: what each Prefect task calls.

Staged tables are written one Parquet part per batch (`part-<batch_key>.parquet`, the key a
hash of the batch's doc_ids) and a batch counts as processed only once the ledger
(`staged/processed`) names it; parts of a batch that a crash left unrecorded are removed
before the next run writes, so a killed run never leaves a row twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import polars as pl
import pyarrow as pa

from tracelake import extract, incidents, lakeio, land, publish, segment
from tracelake.config import Settings, folder_digest
from tracelake.crashpoints import pause_here
from tracelake.schemas import ARTICLES, ENTITIES, RAW_DOCUMENTS, STATISTICS

T = TypeVar("T")

PROCESSED = pa.schema(
    [
        pa.field("batch_key", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("articles", pa.int64(), nullable=False),
        pa.field("statistics", pa.int64(), nullable=False),
        pa.field("entities", pa.int64(), nullable=False),
        pa.field("processed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("extractor_version", pa.string(), nullable=False),
    ]
)
STAGED_TABLES = {"articles": ARTICLES, "statistics": STATISTICS, "entities": ENTITIES}


@dataclass
class LandSummary:
    """What landing a batch of files did."""

    landed: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


@dataclass
class BatchSummary:
    """What segmenting and extracting one batch of documents gave."""

    batch_key: str
    documents: int
    articles: int = 0
    statistics: int = 0
    entities: int = 0


@dataclass
class PartitionOutcome:
    """What segmenting and extracting one partition did: documents processed, and those the
    code failed on (left pending), each with its file and error."""

    documents: int = 0
    failed: list[dict] = field(default_factory=list)


# A partition smaller than this is not split further to keep every worker busy: starting a
# worker process (imports, language models) costs about what segmenting this many takes.
MIN_PARTITION = 250


def partitions(items: list[T], batch_size: int, workers: int) -> list[list[T]]:
    """items (documents or files) cut into partitions of at most batch_size, in order; at
    least one per worker when there are enough of them to keep every worker busy."""
    if not items:
        return []
    count = max(-(-len(items) // batch_size), min(workers, len(items) // MIN_PARTITION))
    size = -(-len(items) // max(count, 1))
    return chunks(items, size)


def process_partition(settings: Settings, doc_ids: list[str]) -> PartitionOutcome:
    """Segment and extract one partition. When the code fails on it, the partition is split
    in two and each half tried again, down to the single documents it fails on: those are
    returned under `failed` and left pending (the next run, or a fixed extractor, tries them
    again); the others go on."""
    outcome = PartitionOutcome()
    _process_into(settings, doc_ids, outcome)
    return outcome


def _process_into(settings: Settings, doc_ids: list[str], outcome: PartitionOutcome) -> None:
    try:
        batch = segment_batch(settings, doc_ids)
        pause_here("segment")
        batch = extract_batch(settings, batch, doc_ids)
        outcome.documents += batch.documents
        pause_here("extract")
    except OSError:
        raise  # the lake's disk, not a document: the run fails and says so
    except Exception as error:  # noqa: BLE001 - a bad document must not stop the others
        remove_batch_parts(settings, doc_ids)
        if len(doc_ids) > 1:
            half = len(doc_ids) // 2
            _process_into(settings, doc_ids[:half], outcome)
            _process_into(settings, doc_ids[half:], outcome)
            return
        [doc_id] = doc_ids
        outcome.failed.append({
            "doc_id": doc_id,
            "file": source_files(settings, doc_ids).get(doc_id, "?"),
            "error": f"{type(error).__name__}: {error}"[:500],
        })  # fmt: skip


def reconcile_duplicates(settings: Settings) -> int:
    """Set `duplicate_of` on every staged article of the current version from the whole
    table: the first article (by landing time, file, position) with the same fingerprint.
    Partitions segmented side by side cannot see each other's articles; afterwards the
    table is what one partition after another gives. Rewrites only the parts that change
    (each in one rename, so a run killed midway is completed by the next); returns their
    number."""
    files = lakeio.parquet_files(settings.staged_table_dir("articles"))
    if not files:
        return 0
    landed = (
        lakeio.scan(settings.raw_documents_dir, RAW_DOCUMENTS)
        .group_by("doc_id")
        .agg(pl.col("landed_at").min())
    )
    flags = (
        pl.scan_parquet(files, hive_partitioning=False, include_file_paths="part")
        .select(
            "part",
            "article_id",
            "doc_id",
            "source_file",
            "article_index",
            "fingerprint",
            "duplicate_of",
        )
        .join(landed, on="doc_id", how="left")
        .sort("landed_at", "source_file", "article_index", "article_id", nulls_last=True)
        .with_columns(first=pl.col("article_id").first().over("fingerprint"))
        .with_columns(should=pl.when(pl.col("first") != pl.col("article_id")).then(pl.col("first")))
        .collect()
    )
    changed = flags.filter(pl.col("duplicate_of").ne_missing(pl.col("should")))
    parts = changed.get_column("part").unique().sort().to_list()
    for part in parts:
        path = Path(part)
        fixed = (
            pl.read_parquet(path)
            .drop("duplicate_of")
            .join(
                flags.filter(pl.col("part") == part).select("article_id", duplicate_of="should"),
                on="article_id",
                how="left",
                maintain_order="left",
            )
        )
        lakeio.write_parquet_atomic(fixed, path, ARTICLES)
    return len(parts)


def batch_key(doc_ids: list[str]) -> str:
    """A stable name for a batch of documents."""
    return hashlib.sha256("\n".join(sorted(doc_ids)).encode()).hexdigest()[:20]


def chunks(items: list[T], size: int) -> list[list[T]]:
    """items cut into lists of at most size."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def discover(settings: Settings, run_id: str) -> tuple[list[Path], list[dict]]:
    """The source's files; entries that cannot be landed at all (link loops, named pipes)
    are recorded in the quarantine, without bytes."""
    paths, problems = land.discover(settings.source_dir)
    for item in problems:
        land.write_quarantine(settings.quarantine_dir, item, None, run_id)
    return paths, [{"file": q.file, "reason": q.reason} for q in problems]


def remove_leftovers(settings: Settings) -> list[Path]:
    """Delete what a killed run can leave behind: temporary files of atomic writes, unfinished
    builds, a build waiting to be renamed over the warehouse. Only ever called under the run
    lock, so no other run is writing them."""
    candidates = [
        *settings.lake_dir.rglob(".*.tmp"),
        *settings.runs_dir.glob(".*.tmp"),
        *settings.marts_dir.glob(".*.tmp"),
        *settings.build_dir.glob("warehouse-*.duckdb*"),
        publish.incoming_path(settings.warehouse_path),
    ]
    removed = [path for path in candidates if path.is_file()]
    for path in removed:
        path.unlink()
    return removed


def land_batch(settings: Settings, paths: list[Path], run_id: str) -> LandSummary:
    """Land a batch of files: new documents to raw Parquet, unreadable ones to quarantine.
    The files are read side by side in settings.land_workers processes; the lake is written
    here, one Parquet part per batch."""
    known = lakeio.known_ids(settings.raw_documents_dir, "doc_id")
    result = land.land_files_side_by_side(
        paths, settings.source_dir, run_id, known, settings.max_file_bytes, settings.land_workers
    )
    summary = LandSummary(present=result.present)
    for item in result.quarantined:
        data = result.quarantined_bytes.get(item.sha256 or "")
        land.write_quarantine(settings.quarantine_dir, item, data, run_id)
        summary.quarantined.append({"file": item.file, "reason": item.reason})
    if result.documents.num_rows:
        day = datetime.now(UTC).date().isoformat()
        key = batch_key(result.documents.column("doc_id").to_pylist())
        path = settings.raw_documents_dir / f"ingest_date={day}" / f"part-{run_id}-{key}.parquet"
        lakeio.write_parquet_atomic(result.documents, path, RAW_DOCUMENTS)
        summary.landed = result.documents.column("source_file").to_pylist()
        for name, problems in zip(
            summary.landed, result.documents.column("problems").to_pylist(), strict=True
        ):
            summary.problems.extend({"file": name, "problem": p} for p in problems or [])
    return summary


def processed_dir(settings: Settings) -> Path:
    return settings.staged_table_dir("processed")


def remove_orphan_parts(settings: Settings) -> list[Path]:
    """Delete staged parts of batches the ledger does not name (left by a killed run)."""
    done = lakeio.known_ids(processed_dir(settings), "batch_key")
    removed = []
    for table in STAGED_TABLES:
        for path in lakeio.parquet_files(settings.staged_table_dir(table)):
            if path.stem.removeprefix("part-") not in done:
                path.unlink()
                removed.append(path)
    return removed


def pending_documents(settings: Settings) -> list[str]:
    """doc_ids landed but not yet processed by the current extractor version, oldest first."""
    done = lakeio.known_ids(processed_dir(settings), "doc_id")
    raw = lakeio.scan(settings.raw_documents_dir, RAW_DOCUMENTS)
    ids = raw.select("doc_id", "landed_at").sort("landed_at", "doc_id").collect()
    return [d for d in ids.get_column("doc_id").to_list() if d not in done]


def _known_fingerprints(settings: Settings) -> dict[str, str]:
    articles = lakeio.scan(settings.staged_table_dir("articles"), ARTICLES)
    first = (
        articles.filter(pl.col("duplicate_of").is_null())
        .group_by("fingerprint")
        .agg(pl.col("article_id").first())
        .collect()
    )
    return dict(first.iter_rows())


def segment_batch(settings: Settings, doc_ids: list[str]) -> BatchSummary:
    """Segment a batch of landed documents into the staged articles part of the batch."""
    key = batch_key(doc_ids)
    documents = (
        lakeio.scan(settings.raw_documents_dir, RAW_DOCUMENTS)
        .filter(pl.col("doc_id").is_in(doc_ids))
        .unique("doc_id", keep="first")
        .collect()
    )
    articles = segment.segment(documents, settings.extractor_version, _known_fingerprints(settings))
    path = settings.staged_table_dir("articles") / f"part-{key}.parquet"
    lakeio.write_parquet_atomic(articles, path, ARTICLES)
    return BatchSummary(batch_key=key, documents=len(documents), articles=len(articles))


def extract_batch(settings: Settings, batch: BatchSummary, doc_ids: list[str]) -> BatchSummary:
    """Extract statistics and entities of a segmented batch, then record it as processed."""
    articles = pl.read_parquet(
        settings.staged_table_dir("articles") / f"part-{batch.batch_key}.parquet"
    )
    stats = extract.statistics(articles, settings.extractor_version)
    ents = extract.entities(articles, settings.extractor_version)
    for table, frame, schema in (("statistics", stats, STATISTICS), ("entities", ents, ENTITIES)):
        path = settings.staged_table_dir(table) / f"part-{batch.batch_key}.parquet"
        lakeio.write_parquet_atomic(frame, path, schema)
    now = datetime.now(UTC)
    per_doc = (
        pl.DataFrame({"doc_id": doc_ids})
        .join(articles.group_by("doc_id").agg(articles=pl.len()), on="doc_id", how="left")
        .join(stats.group_by("doc_id").agg(statistics=pl.len()), on="doc_id", how="left")
        .join(ents.group_by("doc_id").agg(entities=pl.len()), on="doc_id", how="left")
        .fill_null(0)
        .with_columns(
            batch_key=pl.lit(batch.batch_key),
            processed_at=pl.lit(now),
            extractor_version=pl.lit(settings.extractor_version),
        )
    )
    ledger = processed_dir(settings) / f"part-{batch.batch_key}.parquet"
    lakeio.write_parquet_atomic(per_doc, ledger, PROCESSED)
    batch.statistics, batch.entities = len(stats), len(ents)
    return batch


def remove_batch_parts(settings: Settings, doc_ids: list[str]) -> None:
    """Delete the staged parts of a batch that failed before its ledger entry was written."""
    key = batch_key(doc_ids)
    for table in STAGED_TABLES:
        (settings.staged_table_dir(table) / f"part-{key}.parquet").unlink(missing_ok=True)


def source_files(settings: Settings, doc_ids: list[str]) -> dict[str, str]:
    """The source file each document was landed from."""
    raw = lakeio.scan(settings.raw_documents_dir, RAW_DOCUMENTS)
    found = raw.filter(pl.col("doc_id").is_in(doc_ids)).select("doc_id", "source_file").collect()
    return dict(found.iter_rows())


def ensure_staged_tables(settings: Settings) -> None:
    """Give every staged table at least one (possibly empty) part, so dbt always has a source."""
    for table, schema in STAGED_TABLES.items():
        folder = settings.staged_table_dir(table)
        if not lakeio.parquet_files(folder):
            lakeio.write_parquet_atomic(schema.empty_table(), folder / "part-empty.parquet", schema)
    if not lakeio.parquet_files(settings.raw_documents_dir):
        empty = settings.raw_documents_dir / "ingest_date=1970-01-01" / "part-empty.parquet"
        lakeio.write_parquet_atomic(RAW_DOCUMENTS.empty_table(), empty, RAW_DOCUMENTS)


@dataclass
class MatchSummary:
    """What matching the new in-scope articles to incidents did."""

    articles: int = 0  # newly linked
    joined: int = 0  # of them, joined to an incident with other articles
    incidents: int = 0  # incidents in the lake after the run


def match_incidents(settings: Settings, run_id: str) -> MatchSummary:
    """Link the in-scope articles not yet linked to incidents: one Parquet part per run,
    written atomically, so a killed run leaves its articles to the next run to match."""
    folder = settings.incident_links_dir
    links = lakeio.scan(folder, incidents.INCIDENT_LINKS).collect()
    in_scope = lakeio.scan(settings.staged_table_dir("articles"), ARTICLES).filter(
        pl.col("is_relevant") & pl.col("duplicate_of").is_null()
    )
    # Texts only of the articles within reach of a new one's date: memory and time follow
    # what arrived, not the size of the lake.
    dates = in_scope.select("article_id", "published_date").collect()
    linked = set(links.get_column("article_id").to_list())
    new_ids = [a for a in dates.get_column("article_id").to_list() if a not in linked]
    reach = incidents.within_reach(dates, new_ids) if new_ids else dates.clear()
    articles = (
        in_scope.filter(pl.col("article_id").is_in(reach.get_column("article_id").implode()))
        .select("article_id", "title", "body", "language", "published_date")
        .collect()
    )
    ids = articles.get_column("article_id").to_list()
    statistics = (
        lakeio.scan(settings.staged_table_dir("statistics"), STATISTICS)
        .filter(pl.col("article_id").is_in(ids))
        .select("article_id", "metric", "value", "char_start")
        .collect()
    )
    entities = (
        lakeio.scan(settings.staged_table_dir("entities"), ENTITIES)
        .filter(pl.col("article_id").is_in(ids))
        .select("article_id", "entity_type", "entity_id", "char_start")
        .collect()
    )
    new = incidents.match(articles, statistics, entities, links, run_id)
    if len(new):
        lakeio.write_parquet_atomic(
            new, folder / f"part-{run_id}.parquet", incidents.INCIDENT_LINKS
        )
    elif not lakeio.parquet_files(folder):
        empty = incidents.INCIDENT_LINKS.empty_table()
        lakeio.write_parquet_atomic(empty, folder / "part-empty.parquet", incidents.INCIDENT_LINKS)
    every = pl.concat([links.select("incident_id"), new.select("incident_id")])
    return MatchSummary(
        articles=len(new),
        joined=int(new.get_column("matched_article_id").is_not_null().sum()),
        incidents=every.get_column("incident_id").n_unique(),
    )


PUBLISHED_RECORD = "published.json"


def build_inputs(settings: Settings) -> str:
    """A digest of everything a build reads: the lake's committed files of the current
    versions (name, size, modification time), the dbt project's files and the suites."""
    digest = hashlib.sha256()
    folders = [settings.raw_documents_dir, settings.incident_links_dir,
               *(settings.staged_table_dir(t) for t in (*STAGED_TABLES, "processed"))]  # fmt: skip
    for folder in folders:
        for path in lakeio.parquet_files(folder):
            info = path.stat()
            digest.update(
                f"{path.relative_to(settings.lake_dir)}:{info.st_size}:{info.st_mtime_ns}\n".encode()
            )
    for folder in (settings.dbt_project_dir, settings.expectations_dir):
        digest.update(folder_digest(folder).encode() + b"\n")
    return digest.hexdigest()


def warehouse_is_current(settings: Settings, inputs: str) -> str | None:
    """The run id of the published build when it was built from these inputs and is still
    the published file; else None."""
    record = settings.runs_dir / PUBLISHED_RECORD
    warehouse = settings.warehouse_path
    if not record.exists() or not warehouse.exists():
        return None
    try:
        known = json.loads(record.read_text())
    except ValueError:
        return None
    info = warehouse.stat()
    same_file = known.get("warehouse") == [info.st_size, info.st_mtime_ns]
    return known.get("run_id") if same_file and known.get("inputs") == inputs else None


def record_published(settings: Settings, inputs: str, run_id: str) -> None:
    """Remember what the published warehouse was built from (after it is in place)."""
    info = settings.warehouse_path.stat()
    text = json.dumps({"run_id": run_id, "inputs": inputs,
                       "warehouse": [info.st_size, info.st_mtime_ns]})  # fmt: skip
    lakeio.write_bytes_atomic(settings.runs_dir / PUBLISHED_RECORD, text.encode("utf-8"))


SOURCE_DIGESTS = "source-digests.parquet"
_DIGESTS = pa.schema(
    [
        pa.field("path", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("mtime_ns", pa.int64(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
    ]
)


def file_digests(settings: Settings, paths: list[Path]) -> list[str]:
    """sha256 of each file's bytes. A file whose size and modification time are those it had
    when last hashed keeps that hash (runs/source-digests.parquet): asking whether anything
    is new costs a `stat` per file, not a read of the whole source."""
    cache = settings.runs_dir / SOURCE_DIGESTS
    known: dict[str, tuple[int, int, str]] = {}
    if cache.exists():
        cached = pl.read_parquet(cache).iter_rows()
        known = {path: (size, mtime, digest) for path, size, mtime, digest in cached}
    rows, digests, changed = [], [], False
    for path in paths:
        info = path.stat()
        size, mtime, digest = known.get(str(path), (-1, -1, ""))
        if (size, mtime) != (info.st_size, info.st_mtime_ns):
            size, mtime = info.st_size, info.st_mtime_ns
            digest, changed = hashlib.sha256(path.read_bytes()).hexdigest(), True
        rows.append((str(path), size, mtime, digest))
        digests.append(digest)
    if changed or len(rows) != len(known):
        frame = pl.DataFrame(rows, schema=["path", "size", "mtime_ns", "sha256"], orient="row")
        lakeio.write_parquet_atomic(frame, cache, _DIGESTS)
    return digests


def nothing_new(settings: Settings) -> tuple[str, int] | None:
    """(run id of the published build, files seen) when a run would find nothing to do: every source
    file already landed as it is, every document processed by the current extractor, every
    in-scope article matched, and the build's inputs unchanged. None otherwise (or when
    anything is unusual: a file to report, an archive, one over the size limit)."""
    paths, problems = land.discover(settings.source_dir)
    if problems:
        return None
    known = lakeio.known_ids(settings.raw_documents_dir, "doc_id")
    if any(path.stat().st_size > settings.max_file_bytes for path in paths):
        return None
    # also on a first run: the digests it records make the next run's check a stat per file
    if any(digest not in known for digest in file_digests(settings, paths)):
        return None  # new, changed, quarantined or an archive: the run has work
    if pending_documents(settings):
        return None
    in_scope = (
        lakeio.scan(settings.staged_table_dir("articles"), ARTICLES)
        .filter(pl.col("is_relevant") & pl.col("duplicate_of").is_null())
        .select(pl.len())
        .collect()
        .item()
    )
    linked = len(lakeio.known_ids(settings.incident_links_dir, "article_id"))
    if linked != in_scope:
        return None
    current = warehouse_is_current(settings, build_inputs(settings))
    return (current, len(paths)) if current else None


def staged_counts(settings: Settings) -> dict[str, int]:
    """Rows in each staged table of the current extractor version."""
    return {
        table: lakeio.scan(settings.staged_table_dir(table), schema)
        .select(pl.len())
        .collect()
        .item()
        for table, schema in STAGED_TABLES.items()
    }
