"""The lake's stages as plain functions over batches: what each Prefect task calls.

Each batch writes its rows to each staged table in one Delta commit, its `batch_key` (a hash
of the extractor version and the batch's doc_ids) on every row, replacing any rows of the same
key (a retried batch never doubles). A batch counts as processed only once the ledger
(`staged/processed`) names it: rows of a batch that a crash left unrecorded are deleted before
the next run writes, so a killed run never leaves a row twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import polars as pl
import pyarrow as pa

# segment, extract and publish are imported where used: a run that finds nothing new needs
# none of them (nearly half a second of imports, tracelake.cli._up_to_date)
from tracelake import incidents, lakeio, land
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
# The same when the workers are already started: a partition's own cost (reading what the
# lake knows, four commits) is about what segmenting this many documents takes.
MIN_SHARE = 50
# Which of the articles with one body is the original, the others its copies: the first
# landed, then by file and place in it.
FIRST_ORDER = ["landed_at", "source_file", "article_index", "article_id"]


def partitions(
    items: list[T], batch_size: int, workers: int, started: bool = False
) -> list[list[T]]:
    """items (documents or files) cut into partitions of at most batch_size, in order; at
    least one per worker when there are enough of them to keep every worker busy (fewer
    when the workers are already started)."""
    if not items:
        return []
    smallest = MIN_SHARE if started else MIN_PARTITION
    count = max(-(-len(items) // batch_size), min(workers, len(items) // smallest))
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
        batch, articles = segment_batch(settings, doc_ids)
        pause_here("segment")
        batch = extract_batch(settings, batch, articles, doc_ids)
        outcome.documents += batch.documents
        pause_here("extract")
    except OSError:
        raise  # the lake's disk, not a document: the run fails and says so
    except Exception as error:  # noqa: BLE001 - a bad document must not stop the others
        remove_batch_rows(settings, doc_ids)
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
    table: the first article (FIRST_ORDER) with the same fingerprint. Partitions segmented
    side by side cannot see each other's articles; afterwards the table is what one
    partition after another gives. Returns the number of articles changed.

    A merge commit for each batch whose articles change, its files found by the batch's key:
    one merge over the whole table read every article's body (1 GB more at 100,000
    documents, for 228 changed rows). A run killed between two merges leaves the rest to the
    next, which reads the table afresh."""
    lake = settings.lake
    flags = (
        staged(settings, "articles")
        .select(
            "article_id",
            "doc_id",
            "source_file",
            "article_index",
            "fingerprint",
            "duplicate_of",
            lakeio.BATCH_KEY,
        )
        .join(_landed(settings), on="doc_id", how="left")
        .sort(FIRST_ORDER, nulls_last=True)
        .with_columns(first=pl.col("article_id").first().over("fingerprint"))
        .with_columns(should=pl.when(pl.col("first") != pl.col("article_id")).then(pl.col("first")))
        .filter(pl.col("duplicate_of").ne_missing(pl.col("should")))
        .select("article_id", "should", lakeio.BATCH_KEY)
        .collect()
    )
    table = lakeio.open_table(lake, "articles")
    if flags.is_empty() or table is None:
        return 0
    version = lakeio.sql_text(settings.extractor_version)
    for (key,), changed in flags.group_by(lakeio.BATCH_KEY, maintain_order=True):
        batch = f"t.{lakeio.BATCH_KEY} = {lakeio.sql_text(str(key))}"
        (
            table.merge(
                changed.drop(lakeio.BATCH_KEY).to_arrow(),
                predicate=f"{batch} AND t.extractor_version = {version}"
                " AND t.article_id = s.article_id",
                source_alias="s",
                target_alias="t",
            )
            .when_matched_update({"duplicate_of": "s.should"})
            .execute()
        )
    return len(flags)


def _landed(settings: Settings, doc_ids: pl.Series | None = None) -> pl.LazyFrame:
    """When each document (of doc_ids, else all) was first landed."""
    raw = lakeio.scan(settings.lake, "raw_documents", RAW_DOCUMENTS)
    if doc_ids is not None:
        raw = raw.filter(pl.col("doc_id").is_in(doc_ids.unique().implode()))
    return raw.group_by("doc_id").agg(pl.col("landed_at").min())


def batch_key(settings: Settings, doc_ids: list[str]) -> str:
    """A stable name for a batch of documents processed by the current extractor version."""
    text = "\n".join([settings.extractor_version, *sorted(doc_ids)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def chunks(items: list[T], size: int) -> list[list[T]]:
    """items cut into lists of at most size."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def discover(settings: Settings, run_id: str) -> tuple[list[Path], list[dict]]:
    """The source's files; entries that cannot be landed at all (link loops, named pipes)
    are recorded in the quarantine, without bytes."""
    paths, problems = land.discover(settings.source_dir)
    return paths, record_unlisted(settings, problems, run_id)


def record_unlisted(
    settings: Settings, problems: list[land.Quarantined], run_id: str
) -> list[dict]:
    """Record in the quarantine, without bytes, the entries of the source that cannot be
    landed at all (link loops, named pipes); what the run report says of them."""
    land.write_quarantine(settings.lake, problems, {}, run_id)
    return [{"file": q.file, "reason": q.reason} for q in problems]


@dataclass
class SourceScan:
    """The source folder as a run finds it: its files and their stats (land.listing), the
    entries that cannot be landed at all, and the files whose bytes, as they are now, are a
    document landed before (landed_before)."""

    paths: list[Path]
    infos: list[os.stat_result | None]
    problems: list[land.Quarantined]
    landed: set[Path]

    def to_land(self) -> list[Path]:
        """The files to land: those land has not read as they are now (new, changed, or over
        the size limit), in listing order."""
        return [path for path in self.paths if path not in self.landed]


def scan_source(settings: Settings) -> SourceScan:
    """The source folder as it is now: a `stat` a file, and the recorded digests."""
    paths, infos, problems = land.listing(settings.source_dir)
    return SourceScan(paths, infos, problems, landed_before(settings, paths, infos))


# The scan `tracelake run` made to ask whether anything is new (nothing_new), handed to the
# flow it then runs in the same process, under the same locks: the flow's own scan would list
# and stat every file again (0.8 s at 36,000 files). Taken once; source folder -> scan.
_handed: dict[Path, SourceScan] = {}


def hand_over(settings: Settings, scan: SourceScan) -> None:
    """Keep scan for the next run's flow in this process (take_scan)."""
    _handed[settings.source_dir] = scan


def take_scan(settings: Settings) -> SourceScan:
    """The scan handed over for this source folder, once; else a scan made now."""
    return _handed.pop(settings.source_dir, None) or scan_source(settings)


def forget_handed() -> None:
    """Drop a scan handed over and not taken (its run did not start)."""
    _handed.clear()


def remove_leftovers(settings: Settings) -> list[Path]:
    """Delete what a killed run can leave behind: temporary files of atomic writes, unfinished
    builds, a build waiting to be renamed over the warehouse. Only ever called under the run
    lock, so no other run is writing them."""
    from tracelake import publish

    candidates = [
        *settings.runs_dir.glob(".*.tmp"),
        *settings.marts_dir.glob(".*.tmp"),
        *settings.build_dir.glob("warehouse_*.duckdb*"),
        publish.incoming_path(settings.warehouse_path),
    ]
    removed = [path for path in candidates if path.is_file()]
    for path in removed:
        path.unlink()
    return removed


def land_batch(
    settings: Settings, paths: list[Path], run_id: str, then: list[Path] | None = None
) -> LandSummary:
    """Land a batch of files: new documents to raw_documents, unreadable ones to quarantine,
    one commit each. The files are read side by side in settings.land_workers processes; the
    lake is written here, while they read the run's next batch (`then`) ahead."""
    lake = settings.lake
    known = lakeio.known_ids(lake, "raw_documents", RAW_DOCUMENTS, "doc_id")
    result = land.land_files_side_by_side(
        paths, settings.source_dir, run_id, known, settings.max_file_bytes, settings.land_workers,
        then,
    )  # fmt: skip
    summary = LandSummary(present=result.present)
    remember_digests(settings, result.digests)
    land.write_quarantine(lake, result.quarantined, result.quarantined_bytes, run_id)
    summary.quarantined = [{"file": q.file, "reason": q.reason} for q in result.quarantined]
    if result.documents.num_rows:
        day = datetime.now(UTC).date().isoformat()
        lakeio.write(lake, "raw_documents", result.documents, RAW_DOCUMENTS, {"ingest_date": day})
        summary.landed = result.documents.column("source_file").to_pylist()
        for name, problems in zip(
            summary.landed, result.documents.column("problems").to_pylist(), strict=True
        ):
            summary.problems.extend({"file": name, "problem": p} for p in problems or [])
    return summary


def _current(settings: Settings) -> dict[str, str]:
    return {"extractor_version": settings.extractor_version}


def remove_orphan_rows(settings: Settings) -> int:
    """Delete the staged rows of batches the ledger does not name (left by a killed run);
    how many batches."""
    lake, version = settings.lake, _current(settings)
    done = lakeio.known_ids(lake, "processed", PROCESSED, lakeio.BATCH_KEY, version)
    orphans: set[str] = set()
    for table, schema in STAGED_TABLES.items():
        keys = lakeio.known_ids(lake, table, schema, lakeio.BATCH_KEY, version) - done
        if keys:
            lakeio.delete(lake, table, _batches(settings, keys))
            orphans |= keys
    return len(orphans)


def _batches(settings: Settings, keys: set[str] | list[str]) -> str:
    """The predicate of the rows of these batches of the current extractor version."""
    return (
        f"extractor_version = {lakeio.sql_text(settings.extractor_version)}"
        f" AND {lakeio.BATCH_KEY} IN {lakeio.sql_list(sorted(keys))}"
    )


def remove_superseded(settings: Settings) -> dict[str, int]:
    """Once every landed document is processed by the current extractor version, delete the
    staged rows of earlier versions, and incident links of earlier matchers (one predicate
    delete per table: the new rows replace them; time travel still reads them until
    `tracelake maintain` vacuums their files)."""
    if pending_documents(settings):
        return {}
    other = f"extractor_version <> {lakeio.sql_text(settings.extractor_version)}"
    removed = {table: lakeio.delete(settings.lake, table, other)
               for table in (*STAGED_TABLES, "processed")}  # fmt: skip
    matcher = lakeio.sql_text(incidents.matcher_version())
    links = f"{other} OR matcher_version <> {matcher}"  # or matched by an earlier matcher
    for table in ("incident_links", "incident_keys"):
        removed[table] = lakeio.delete(settings.lake, table, links)
    return removed


def pending_documents(settings: Settings) -> list[str]:
    """doc_ids landed but not yet processed by the current extractor version, oldest first."""
    lake = settings.lake
    done = lakeio.known_ids(lake, "processed", PROCESSED, "doc_id", _current(settings))
    raw = lakeio.scan(lake, "raw_documents", RAW_DOCUMENTS)
    ids = raw.select("doc_id", "landed_at").sort("landed_at", "doc_id").collect()
    return [d for d in ids.get_column("doc_id").to_list() if d not in done]


def staged(settings: Settings, table: str) -> pl.LazyFrame:
    """The rows of a staged table of the current extractor version."""
    return lakeio.scan(settings.lake, table, STAGED_TABLES[table], _current(settings))


def _known_fingerprints(settings: Settings, fingerprints: pl.Series) -> dict[str, str]:
    """The first article staged earlier (FIRST_ORDER) with each of these body fingerprints,
    as reconcile_duplicates will find it. Only these are asked of the lake: every article's,
    held by each partition, grew a worker with the lake (57 MB at 10,000 documents).

    Any staged article counts, flagged or not: partitions segmented side by side can each
    take their copy for the first, and the one that lands first must win in every later
    partition, or reconcile_duplicates rewrites them all (68,013 articles at 100,000 bench
    documents, when a later partition took whichever of the two came first)."""
    earlier = (
        staged(settings, "articles")
        .filter(pl.col("fingerprint").is_in(fingerprints.unique().implode()))
        .select("article_id", "doc_id", "source_file", "article_index", "fingerprint")
        .collect()
    )
    if earlier.is_empty():
        return {}
    first = (
        earlier.join(
            _landed(settings, earlier.get_column("doc_id")).collect(), on="doc_id", how="left"
        )
        .sort(FIRST_ORDER, nulls_last=True)
        .group_by("fingerprint", maintain_order=True)
        .agg(pl.col("article_id").first())
    )
    return dict(first.iter_rows())


def segment_batch(settings: Settings, doc_ids: list[str]) -> tuple[BatchSummary, pl.DataFrame]:
    """Segment a batch of landed documents into the batch's staged articles (one commit)."""
    from tracelake import segment

    key = batch_key(settings, doc_ids)
    documents = (
        lakeio.scan(settings.lake, "raw_documents", RAW_DOCUMENTS)
        .filter(pl.col("doc_id").is_in(doc_ids))
        .unique("doc_id", keep="first")
        .collect()
    )
    articles = segment.segment(documents, settings.extractor_version)
    # copies of articles staged by earlier batches (segment flags those within the batch)
    known = _known_fingerprints(settings, articles.get_column("fingerprint"))
    if known:
        landed = documents.select("doc_id", "landed_at")
        flagged = segment.flag_duplicates(articles.join(landed, on="doc_id", how="left"), known)
        articles = flagged.select(ARTICLES.names)
    _write_batch(settings, "articles", articles, key)
    return BatchSummary(batch_key=key, documents=len(documents), articles=len(articles)), articles


def _write_batch(settings: Settings, table: str, frame: pl.DataFrame, key: str) -> None:
    columns = _current(settings) | {lakeio.BATCH_KEY: key}
    schema = STAGED_TABLES.get(table, PROCESSED)
    replace = f"{lakeio.BATCH_KEY} = {lakeio.sql_text(key)}"
    lakeio.write(settings.lake, table, frame, schema, columns, replace_where=replace)


def extract_batch(
    settings: Settings, batch: BatchSummary, articles: pl.DataFrame, doc_ids: list[str]
) -> BatchSummary:
    """Extract statistics and entities of a segmented batch, then record it as processed."""
    from tracelake import extract

    sents = extract.sentences(articles, with_title=True)  # split once, read twice
    stats = extract.statistics(articles, settings.extractor_version, sents)
    ents = extract.entities(articles, settings.extractor_version, sents)
    _write_batch(settings, "statistics", stats, batch.batch_key)
    _write_batch(settings, "entities", ents, batch.batch_key)
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
    _write_batch(settings, "processed", per_doc, batch.batch_key)
    batch.statistics, batch.entities = len(stats), len(ents)
    return batch


def remove_batch_rows(settings: Settings, doc_ids: list[str]) -> None:
    """Delete the staged rows of a batch that failed before its ledger entry was written."""
    key = batch_key(settings, doc_ids)
    for table in STAGED_TABLES:
        lakeio.delete(settings.lake, table, _batches(settings, [key]))


def source_files(settings: Settings, doc_ids: list[str]) -> dict[str, str]:
    """The source file each document was landed from."""
    raw = lakeio.scan(settings.lake, "raw_documents", RAW_DOCUMENTS)
    found = raw.filter(pl.col("doc_id").is_in(doc_ids)).select("doc_id", "source_file").collect()
    return dict(found.iter_rows())


def ensure_lake_tables(settings: Settings) -> None:
    """Create every table dbt reads (with no rows) when it has no commit yet."""
    for table, schema in (*STAGED_TABLES.items(), ("raw_documents", RAW_DOCUMENTS),
                          ("incident_links", incidents.INCIDENT_LINKS)):  # fmt: skip
        lakeio.ensure(settings.lake, table, schema)


# Articles whose texts match_incidents holds at a time: 5,000 bench articles are some 50 MB.
MATCH_TEXT_SLICE = 5000


@dataclass
class MatchSummary:
    """What matching the new in-scope articles to incidents did."""

    articles: int = 0  # newly linked
    joined: int = 0  # of them, joined to an incident with other articles
    incidents: int = 0  # incidents in the lake after the run


def links_version(settings: Settings) -> dict[str, str]:
    """The partition of incident_links of the current extractor and matcher versions."""
    return _current(settings) | {"matcher_version": incidents.matcher_version()}


def incident_links(settings: Settings) -> pl.LazyFrame:
    return lakeio.scan(settings.lake, "incident_links", incidents.INCIDENT_LINKS,
                       links_version(settings))  # fmt: skip


def incident_keys(settings: Settings) -> pl.LazyFrame:
    return lakeio.scan(settings.lake, "incident_keys", incidents.INCIDENT_KEYS,
                       links_version(settings))  # fmt: skip


def match_incidents(settings: Settings, run_id: str) -> MatchSummary:
    """Link the in-scope articles not yet linked to incidents: one commit per run, so a
    killed run leaves its articles to the next run to match. The keys of the articles met
    for the first time are kept (incident_keys, committed as they are made, before the
    links): a later run reads them, and needs the texts of its new articles only.

    Memory follows a slice of the new articles, not the lake: the texts, statistics and
    entities are read a slice at a time for the keys; then only the blocking keys of the
    articles in reach are held (by number), and each slice of new articles (LINK_SLICE, oldest
    first) has the keys, statistics and entities of its candidates read for it alone."""
    links = incident_links(settings).select("article_id", "incident_id").collect()
    in_scope = staged(settings, "articles").filter(
        pl.col("is_relevant") & pl.col("duplicate_of").is_null()
    )
    # The articles within reach of a new one's date: memory and time follow what arrived,
    # not the size of the lake.
    dates = in_scope.select("article_id", "published_date").collect()
    linked = set(links.get_column("article_id").to_list())
    new_ids = [a for a in dates.get_column("article_id").to_list() if a not in linked]
    if not new_ids:
        return MatchSummary(incidents=links.get_column("incident_id").n_unique())
    reach = incidents.within_reach(dates, new_ids)
    ids = reach.get_column("article_id").implode()
    keyed_before = set(
        incident_keys(settings)
        .filter(pl.col("article_id").is_in(ids))
        .select(pl.col("article_id").unique())
        .collect(engine="streaming")
        .get_column("article_id")
        .to_list()
    )
    unkeyed = [a for a in ids.explode().to_list() if a not in keyed_before]
    # The texts are read MATCH_TEXT_SLICE articles at a time, for the keys of those met for
    # the first time and the event dates of the new ones: a first run's would fill memory.
    # Their keys are written as they are made.
    events: dict[str, date | None] = {}
    unkeyed_set, new_set = set(unkeyed), set(new_ids)
    needed = [*unkeyed, *(a for a in new_ids if a not in unkeyed_set)]
    for start in range(0, len(needed), MATCH_TEXT_SLICE):
        part = needed[start : start + MATCH_TEXT_SLICE]
        texts = (
            in_scope.filter(pl.col("article_id").is_in(part))
            .select("article_id", "title", "body", "language", "published_date")
            .collect()
        )
        to_key = texts.filter(pl.col("article_id").is_in(unkeyed_set))
        if len(to_key):
            made = incidents.keys(to_key, *_facts(settings, to_key.get_column("article_id")))
            lakeio.write(settings.lake, "incident_keys", made.select(incidents.INCIDENT_KEYS.names),
                         incidents.INCIDENT_KEYS, links_version(settings))  # fmt: skip
        events |= incidents.events_of(texts.filter(pl.col("article_id").is_in(new_set)))
    # The blocking keys of every article in reach, held by number (a first run's: 0.8
    # million rows at 1 GB); the rest of each slice's needs are read for it alone.
    blocks = incidents.compact(
        incident_keys(settings)
        .filter(pl.col("is_block") & pl.col("article_id").is_in(ids))
        .select("article_id", "key")
    ).collect(engine="streaming")

    def keys_of(some: pl.Series) -> pl.DataFrame:
        return incidents.compact(
            incident_keys(settings)
            .filter(pl.col("article_id").is_in(some.implode()))
            .select(incidents.INCIDENT_KEYS.names)
        ).collect(engine="streaming")

    known = dict(links.iter_rows())
    new = incidents.link(new_ids, reach, blocks, keys_of, partial(_facts, settings), known,
                         events, run_id)  # fmt: skip
    lakeio.write(settings.lake, "incident_links", new, incidents.INCIDENT_LINKS,
                 links_version(settings))  # fmt: skip
    every = pl.concat([links.select("incident_id"), new.select("incident_id")])
    return MatchSummary(
        articles=len(new),
        joined=int(new.get_column("matched_article_id").is_not_null().sum()),
        incidents=every.get_column("incident_id").n_unique(),
    )


def _facts(settings: Settings, ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The statistics and entities of these articles, as matching reads them."""
    wanted = pl.col("article_id").is_in(ids.implode())
    statistics = staged(settings, "statistics").filter(wanted)
    entities = staged(settings, "entities").filter(wanted)
    return (
        statistics.select("article_id", "metric", "value", "char_start").collect(),
        entities.select("article_id", "entity_type", "entity_id", "char_start").collect(),
    )


PUBLISHED_RECORD = "published.json"


def build_inputs(
    settings: Settings,
    lake_versions: dict[str, int | None] | None = None,
    matcher: str | None = None,
) -> str:
    """A digest of everything a build reads: the lake (its URL and its tables' versions, the
    latest unless given), the extractor and matcher versions, the dbt project's files and
    the suites."""
    digest = hashlib.sha256()
    partition = links_version(settings) | ({"matcher_version": matcher} if matcher else {})
    versions = lake_versions if lake_versions is not None else lakeio.versions(settings.lake)
    digest.update(f"{_lake_place(settings)}\n{json.dumps(partition, sort_keys=True)}\n".encode())
    digest.update(json.dumps(versions, sort_keys=True).encode() + b"\n")
    for folder in (settings.dbt_project_dir, settings.expectations_dir):
        digest.update(folder_digest(folder).encode() + b"\n")
    return digest.hexdigest()


def _lake_place(settings: Settings) -> str:
    """The lake's URL; for a lake inside the data dir, its path there (a copied data dir
    holds the same lake)."""
    url = settings.lake.url
    if settings.lake.is_local and Path(url).is_relative_to(settings.data_dir):
        return str(Path(url).relative_to(settings.data_dir))
    return url


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


def record_published(
    settings: Settings,
    inputs: str,
    run_id: str,
    lake_checked: tuple[str, dict[str, int]] | None = None,
    lake_versions: dict[str, int | None] | None = None,
) -> None:
    """Remember what the published warehouse was built from (after it is in place): the
    digest of its inputs, and its lake versions with the project and extractor they were
    read by (for the next build to start from it: added_since); lake_checked: what its run's
    validation of the lake depended on (a digest) and the lake tables, at their versions, in
    which it found nothing wrong."""
    info = settings.warehouse_path.stat()
    record: dict[str, object] = {
        "run_id": run_id,
        "inputs": inputs,
        "warehouse": [info.st_size, info.st_mtime_ns],
    }
    if lake_versions is not None:
        record["built_from"] = {
            "lake_versions": lake_versions,
            "extractor_version": settings.extractor_version,
            "dbt_project": folder_digest(settings.dbt_project_dir),
        }
    if lake_checked is not None:
        record["lake_checked"] = {"digest": lake_checked[0], "tables": lake_checked[1]}
    text = json.dumps(record)
    lakeio.write_bytes_atomic(settings.runs_dir / PUBLISHED_RECORD, text.encode("utf-8"))


# The lake tables whose added rows an incremental build adds to the marts made of them
# (dim_documents, dim_articles, fct_statistics, bridge_article_entities). Their earlier rows
# must be as the published build read them: which articles are in scope, copies, and their
# dates.
ADDED_TABLES = ("raw_documents", "articles", "statistics", "entities")


def added_since(settings: Settings, lake_versions: dict[str, int | None]) -> dict[str, int]:
    """The lake versions the published build read of ADDED_TABLES, when a build from
    lake_versions can start from a copy of the published warehouse: the same file, built by
    the same dbt project from rows of the same extractor version, and every file it read of
    ADDED_TABLES still in the lake (the lake only gained rows since: no row removed or
    rewritten, no older article flagged a copy anew). {} otherwise: the build makes every
    mart whole."""
    record = settings.runs_dir / PUBLISHED_RECORD
    try:
        known = json.loads(record.read_text())
        info = settings.warehouse_path.stat()
    except (OSError, ValueError):
        return {}
    built = known.get("built_from") or {}
    if (
        known.get("warehouse") != [info.st_size, info.st_mtime_ns]
        or built.get("extractor_version") != settings.extractor_version
        or built.get("dbt_project") != folder_digest(settings.dbt_project_dir)
    ):
        return {}
    before = built.get("lake_versions") or {}
    for table in ADDED_TABLES:
        then, now = before.get(table), lake_versions.get(table)
        if then is None or now is None:
            return {}
        old = lakeio.file_uris(settings.lake, table, then)
        new = lakeio.file_uris(settings.lake, table, now)
        if old is None or new is None or not old <= new:
            return {}
    return {table: before[table] for table in ADDED_TABLES}


def lake_checked_before(settings: Settings, digest: str) -> tuple[str, dict[str, int]] | None:
    """The run of the published build, and the lake tables (at their versions) its validation
    found nothing wrong in, when that validation depended on the same digest; else None."""
    record = settings.runs_dir / PUBLISHED_RECORD
    try:
        known = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    checked = known.get("lake_checked") or {}
    if checked.get("digest") != digest or not checked.get("tables"):
        return None
    return str(known["run_id"]), {str(t): int(v) for t, v in checked["tables"].items()}


SOURCE_DIGESTS = "source-digests.parquet"
_DIGESTS = pa.schema(
    [
        pa.field("path", pa.binary(), nullable=False),  # land.source_key: any bytes
        pa.field("size", pa.int64(), nullable=False),
        pa.field("mtime_ns", pa.int64(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
    ]
)


def _digest_cache(settings: Settings) -> dict[bytes, tuple[int, int, str]]:
    """The recorded (size, mtime_ns, sha256) of each source file by its land.source_key."""
    cache = settings.runs_dir / SOURCE_DIGESTS
    if not cache.exists():
        return {}
    cached = pl.read_parquet(cache)
    if cached.schema["path"] != pl.Binary:  # of an earlier layout: land reads the files again
        return {}
    # a cache written before the keys were relative holds whole paths: those under the source
    # root are read as keys
    root = os.fsencode(settings.source_dir) + b"/"
    return {
        path.removeprefix(root): (size, mtime, digest)
        for path, size, mtime, digest in cached.iter_rows()
    }


def remember_digests(settings: Settings, digests: list[tuple[bytes, int, int, str]]) -> None:
    """Record the digests of files just read whole (land.LandResult.digests)."""
    if not digests:
        return
    known = _digest_cache(settings)
    known.update((path, (size, mtime, digest)) for path, size, mtime, digest in digests)
    rows = [(path, *entry) for path, entry in known.items()]
    frame = pl.DataFrame(rows, schema=list(_DIGESTS.names), orient="row")
    lakeio.write_parquet_atomic(frame, settings.runs_dir / SOURCE_DIGESTS, _DIGESTS)


def recorded_digests(
    settings: Settings, paths: list[Path], infos: list[os.stat_result | None] | None = None
) -> list[str]:
    """sha256 of each file's bytes, as recorded when land last read it (remember_digests), if
    the file still has the size and modification time it had then; else "". Asking whether
    anything is new costs a `stat` per file (infos, when the caller has them), not a read of
    the whole source."""
    known = _digest_cache(settings)
    digests = []
    for path, info in zip(paths, infos or [land.file_stat(path) for path in paths], strict=True):
        size, mtime, digest = known.get(land.source_key(path, settings.source_dir), (-1, -1, ""))
        if info is None:  # gone or unreadable: landing it says why
            digest = ""
        else:
            digest = digest if (size, mtime) == (info.st_size, info.st_mtime_ns) else ""
        digests.append(digest)
    return digests


def landed_before(
    settings: Settings, paths: list[Path], infos: list[os.stat_result | None] | None = None
) -> set[Path]:
    """The files whose bytes, as they are now, are a document landed before, told by their
    recorded digests (recorded_digests), a `stat` each; `infos`: their stats, when the caller
    has them (land.listing). A file land has not read as it is now (new, or changed) is left
    to land, which reads it once, tells a document landed before, and records the file's
    digest: a run that adds 1 % of the files reads those only, and once. A file over the size
    limit is left to land too, which quarantines it."""
    infos = [land.file_stat(path) for path in paths] if infos is None else infos
    small = [(path, info) for path, info in zip(paths, infos, strict=True)
             if info is None or info.st_size <= settings.max_file_bytes]  # fmt: skip
    known = lakeio.known_ids(settings.lake, "raw_documents", RAW_DOCUMENTS, "doc_id")
    digests = recorded_digests(settings, [p for p, _ in small], [i for _, i in small])
    return {path for (path, _), digest in zip(small, digests, strict=True) if digest in known}


def nothing_new(settings: Settings, scan: SourceScan | None = None) -> tuple[str, int] | None:
    """(run id of the published build, files seen) when a run would find nothing to do: every source
    file already landed as it is, every document processed by the current extractor, every
    in-scope article matched, and the build's inputs unchanged. None otherwise (or when
    anything is unusual: a file to report, an archive, one over the size limit). scan: the
    source folder's, when the caller made it (else one is made here)."""
    scan = scan_source(settings) if scan is None else scan
    if scan.problems:
        return None
    if len(scan.landed) < len(scan.paths):  # a file not hashed as it is now
        return None  # new, changed, quarantined, over the limit or an archive: the run has work
    if pending_documents(settings):
        return None
    in_scope = (
        staged(settings, "articles")
        .filter(pl.col("is_relevant") & pl.col("duplicate_of").is_null())
        .select(pl.len())
        .collect()
        .item()
    )
    linked = incident_links(settings).select(pl.col("article_id").n_unique()).collect().item()
    if linked != in_scope:
        return None
    current = warehouse_is_current(settings, build_inputs(settings))
    return (current, len(scan.paths)) if current else None


def staged_counts(settings: Settings) -> dict[str, int]:
    """Rows in each staged table of the current extractor version."""
    return {table: staged(settings, table).select(pl.len()).collect().item()
            for table in STAGED_TABLES}  # fmt: skip
