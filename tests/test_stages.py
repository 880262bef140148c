"""The lake's stages run incrementally and recover from a killed run (tasks called by .fn())."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from flows import pipeline
from tracelake import extract, incidents, lakeio, stages, validator, workers
from tracelake.config import Settings

SEEDS = ["single_article.txt", "article_fr.txt", "press_rollup.txt", "crawler_export.jsonl"]


@pytest.fixture
def settings(seeds_dir: Path, tmp_path: Path) -> Settings:
    source = tmp_path / "source"
    source.mkdir()
    for name in SEEDS:
        shutil.copy(seeds_dir / name, source / name)
    return Settings.from_env(source_dir=source, data_dir=tmp_path / "data", batch_size=3)


def one_pass(settings: Settings, run_id: str) -> tuple[stages.LandSummary, list[str]]:
    """Discover, land, then segment and extract what is pending: the flow's first stages."""
    scan, _ = pipeline.discover_task.fn(settings, run_id)
    landed = pipeline.land_task.fn(settings, scan.paths, run_id)
    pending = stages.pending_documents(settings)
    stages.remove_orphan_rows(settings)
    for doc_ids in stages.chunks(pending, settings.batch_size):
        pipeline.segment_extract_task.fn(settings, doc_ids)
    stages.reconcile_duplicates(settings)
    return landed, pending


def lake_versions(settings: Settings) -> dict[str, int | None]:
    return lakeio.versions(settings.lake)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_second_pass_lands_and_processes_nothing(settings: Settings) -> None:
    landed, pending = one_pass(settings, "run-1")
    assert sorted(landed.landed) == sorted(SEEDS)
    assert len(pending) == len(SEEDS)
    before = lake_versions(settings)
    again, pending_again = one_pass(settings, "run-2")
    assert again.landed == []
    assert sorted(again.present) == sorted(SEEDS)
    assert pending_again == []
    assert lake_versions(settings) == before  # not one commit


def test_k_new_files_are_exactly_the_work_of_the_next_pass(
    settings: Settings, seeds_dir: Path
) -> None:
    one_pass(settings, "run-1")
    new = ["multi_article_page.txt", "revision_diff.txt"]
    for name in new:
        shutil.copy(seeds_dir / name, settings.source_dir / name)
    shutil.copy(seeds_dir / SEEDS[0], settings.source_dir / "same bytes, new name.txt")
    landed, pending = one_pass(settings, "run-2")
    assert sorted(landed.landed) == new
    assert "same bytes, new name.txt" in landed.present
    assert sorted(pending) == sorted(sha(settings.source_dir / name) for name in new)


def test_a_later_match_makes_the_keys_of_its_new_articles_only(
    settings: Settings, seeds_dir: Path
) -> None:
    one_pass(settings, "run-1")
    stages.match_incidents(settings, "run-1")
    before = stages.incident_keys(settings).collect()
    linked = stages.incident_links(settings).collect().get_column("article_id")
    assert set(before.get_column("article_id")) == set(linked)  # every in-scope article
    for name in ("multi_article_page.txt", "revision_diff.txt"):
        shutil.copy(seeds_dir / name, settings.source_dir / name)
    one_pass(settings, "run-2")
    stages.match_incidents(settings, "run-2")
    after = stages.incident_keys(settings).collect()
    links = stages.incident_links(settings).collect()
    new = set(links.filter(pl.col("run_id") == "run-2").get_column("article_id"))
    assert new and set(after.get_column("article_id")) == set(links.get_column("article_id"))
    made = after.join(before, on=["article_id", "key"], how="anti")
    assert set(made.get_column("article_id")) == new  # the old articles' keys were read
    assert len(after) == len(before) + len(made)


# A later, shorter report of the Veracruz trailer story in crawler_export.jsonl: it joins
# that report's incident.
VERACRUZ_BRIEF = (
    "Veracruz: 129 migrants found in a sealed trailer, 31 of them minors\n"
    "Published: 19 May 2023\n\n"
    "Soldiers and National Migration Institute agents found 129 migrants, 31 of them "
    "unaccompanied minors, shut inside the trailer of a truck left on a highway in "
    "Veracruz. Seven were taken to hospital. Prosecutors opened a people smuggling case.\n"
)


def test_match_reads_the_texts_a_slice_at_a_time_and_links_as_with_all_of_them(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (settings.source_dir / "veracruz_brief.txt").write_text(VERACRUZ_BRIEF, encoding="utf-8")
    one_pass(settings, "run-1")
    monkeypatch.setattr(stages, "MATCH_TEXT_SLICE", 1)  # an article's texts at a time
    stages.match_incidents(settings, "run-1")
    links = stages.incident_links(settings).select(incidents.INCIDENT_LINKS.names).collect()
    in_scope = pl.col("is_relevant") & pl.col("duplicate_of").is_null()
    articles = stages.staged(settings, "articles").filter(in_scope).collect()
    statistics = stages.staged(settings, "statistics").collect()
    entities = stages.staged(settings, "entities").collect()
    assert len(articles) >= 3
    # the links of all the texts at once, keys and event dates made by the matcher itself
    expected = incidents.match(articles, statistics, entities, links.clear(), "run-1")
    assert links.sort("article_id").equals(expected.sort("article_id"))
    assert links.get_column("event_date").is_not_null().any()
    assert links.get_column("matched_article_id").is_not_null().any()  # one report joined


def test_a_new_extractor_version_reprocesses_everything_then_replaces_the_old_rows(
    settings: Settings,
) -> None:
    one_pass(settings, "run-1")
    counts = stages.staged_counts(settings)
    bumped = replace(settings, extractor_version=settings.extractor_version + "-next")
    assert stages.remove_superseded(bumped) == {}  # not while documents wait for the new one
    landed, pending = one_pass(bumped, "run-2")
    assert landed.landed == []  # landing does not depend on the extractor
    assert len(pending) == len(SEEDS)
    assert stages.staged_counts(bumped) == counts  # same code: the same rows again
    assert stages.staged_counts(settings) == counts  # the old version's rows, until replaced
    assert stages.pending_documents(settings) == stages.pending_documents(bumped) == []
    removed = stages.remove_superseded(bumped)
    assert removed["articles"] == counts["articles"] > 0
    assert stages.staged_counts(settings) == {table: 0 for table in counts}
    assert stages.staged_counts(bumped) == counts


def test_rows_of_a_batch_killed_before_its_ledger_entry_are_removed(
    settings: Settings,
) -> None:
    paths, _ = stages.discover(settings, "run-1")
    stages.land_batch(settings, paths, "run-1")
    doc_ids = stages.pending_documents(settings)[:2]
    stages.segment_batch(settings, doc_ids)  # then killed: extract never recorded the batch
    articles = stages.staged(settings, "articles").collect()
    assert set(articles.get_column("batch_key")) == {stages.batch_key(settings, doc_ids)}
    assert stages.remove_orphan_rows(settings) == 1
    assert stages.staged_counts(settings)["articles"] == 0
    assert len(stages.pending_documents(settings)) == len(SEEDS)


def test_leftovers_of_a_killed_run_are_removed(settings: Settings) -> None:
    one_pass(settings, "run-1")
    committed = lake_versions(settings)
    leftovers = [
        settings.build_dir / "warehouse_next.duckdb",  # a dbt build that never finished
        settings.build_dir / "warehouse_next.duckdb.wal",
        settings.data_dir / ".warehouse.duckdb.incoming",  # a publish stopped between renames
        settings.marts_dir / ".fct_statistics.parquet.tmp",
        settings.runs_dir / ".latest.json.tmp",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half written")
    assert sorted(stages.remove_leftovers(settings)) == sorted(leftovers)
    assert not any(path.exists() for path in leftovers)
    assert lake_versions(settings) == committed


def test_retries_with_back_off_on_io_tasks_only() -> None:
    io_tasks = [pipeline.discover_task, pipeline.land_task, pipeline.publish_task,
                pipeline.export_marts_task]  # fmt: skip
    for task in io_tasks:
        assert task.retries == 2, task.name
        assert task.retry_delay_seconds == [1, 5], task.name
    compute = [pipeline.segment_extract_task, pipeline.validate_lake_task,
               pipeline.dbt_build_task, pipeline.validate_marts_task]  # fmt: skip
    assert [task.retries for task in compute] == [0] * len(compute)


def test_a_document_the_extractor_fails_on_is_reported_and_left_pending(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    names = ["single_article.txt", "article_fr.txt", "page_with_comments.txt"]
    for name in names:
        shutil.copy(seeds_dir / name, source / name)
    ids = {hashlib.sha256((source / n).read_bytes()).hexdigest(): n for n in names}
    bad_id = next(d for d, n in ids.items() if n == "article_fr.txt")
    real_statistics = extract.statistics

    def fails_on_one_document(
        articles: pl.DataFrame, version: str, sents: pl.DataFrame | None = None
    ) -> pl.DataFrame:
        if bad_id in articles.get_column("doc_id").to_list():
            raise ValueError("extractor bug on this document")
        return real_statistics(articles, version, sents)

    monkeypatch.setattr(extract, "statistics", fails_on_one_document)
    settings = Settings.from_env(source_dir=source, data_dir=tmp_path / "data")
    paths, _ = stages.discover(settings, "test")
    stages.land_batch(settings, paths, "test")
    outcome = stages.process_partition(settings, stages.pending_documents(settings))
    assert outcome.documents == 2
    assert [(f["file"], f["doc_id"]) for f in outcome.failed] == [("article_fr.txt", bad_id)]
    assert "extractor bug" in outcome.failed[0]["error"]
    staged = stages.staged(settings, "articles").select("doc_id").collect()
    assert set(staged.get_column("doc_id")) == set(ids) - {
        bad_id
    }  # the others went on; nothing of the bad one stays
    assert stages.pending_documents(settings) == [bad_id]

    monkeypatch.setattr(extract, "statistics", real_statistics)  # the extractor is fixed
    again = stages.process_partition(settings, stages.pending_documents(settings))
    assert again.documents == 1
    assert again.failed == []
    staged = stages.staged(settings, "articles").select("doc_id").collect()
    assert set(staged.get_column("doc_id")) == set(ids)
    assert stages.pending_documents(settings) == []


@pytest.mark.parametrize(
    ("documents", "batch_size", "workers", "sizes"),
    [
        (0, 2000, 2, []),
        (10, 2000, 2, [10]),  # too few to be worth a second worker
        (1000, 2000, 2, [500, 500]),  # one partition per worker
        (1000, 300, 2, [250, 250, 250, 250]),  # at most batch_size each
        (1000, 2000, 1, [1000]),
        (601, 2000, 4, [301, 300]),  # not cut below MIN_PARTITION for idle workers
        (360, 2000, 2, [360]),  # a worker's start costs more than it saves
    ],
)
def test_partitions_keep_order_and_keep_workers_busy(
    documents: int, batch_size: int, workers: int, sizes: list[int]
) -> None:
    ids = [f"d{i:04d}" for i in range(documents)]
    parts = stages.partitions(ids, batch_size, workers)
    assert [len(p) for p in parts] == sizes
    assert [d for p in parts for d in p] == ids


@pytest.mark.parametrize(
    ("documents", "workers", "sizes"),
    [
        (360, 2, [180, 180]),  # workers already started: both busy
        (90, 2, [90]),  # too few to repay a partition's own cost
        (300, 4, [75, 75, 75, 75]),
    ],
)
def test_started_workers_share_even_a_small_run(
    documents: int, workers: int, sizes: list[int]
) -> None:
    ids = [f"d{i:04d}" for i in range(documents)]
    parts = stages.partitions(ids, 2000, workers, started=True)
    assert [len(p) for p in parts] == sizes
    assert [d for p in parts for d in p] == ids


def test_copies_segmented_side_by_side_are_flagged_as_in_one_pass(
    seeds_dir: Path, tmp_path: Path
) -> None:
    # duplicate_wire.txt copies an article of crawler_export.jsonl. Partitions that run side
    # by side finish in any order: here the copy's partition first, so the original is taken
    # for the copy until the duplicates are reconciled over the whole table.
    names = ["crawler_export.jsonl", "duplicate_wire.txt", "single_article.txt"]
    flags = {}
    for mode in ("one pass", "side by side"):
        source = tmp_path / mode / "source"
        source.mkdir(parents=True)
        for name in names:
            shutil.copy(seeds_dir / name, source / name)
        settings = Settings.from_env(source_dir=source, data_dir=tmp_path / mode / "data")
        paths, _ = stages.discover(settings, "test")
        stages.land_batch(settings, paths, "test")
        pending = stages.pending_documents(settings)
        parts = [pending] if mode == "one pass" else [[d] for d in reversed(pending)]
        for doc_ids in parts:
            stages.process_partition(settings, doc_ids)
        rewritten = stages.reconcile_duplicates(settings)
        articles = stages.staged(settings, "articles").collect()
        flags[mode] = sorted(articles.select("article_id", "duplicate_of").iter_rows())
        assert (rewritten > 0) == (mode == "side by side")
        assert stages.reconcile_duplicates(settings) == 0  # settled
    assert flags["one pass"] == flags["side by side"]
    assert sum(dup is not None for _, dup in flags["one pass"]) == 1


def test_a_copy_in_a_later_partition_is_flagged_as_it_is_segmented(
    seeds_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ["crawler_export.jsonl", "duplicate_wire.txt", "single_article.txt"]:
        shutil.copy(seeds_dir / name, source / name)
    settings = Settings.from_env(source_dir=source, data_dir=tmp_path / "data")
    paths, _ = stages.discover(settings, "test")
    stages.land_batch(settings, paths, "test")
    copy = hashlib.sha256((source / "duplicate_wire.txt").read_bytes()).hexdigest()
    pending = stages.pending_documents(settings)
    stages.process_partition(settings, [d for d in pending if d != copy])  # the original first
    stages.process_partition(settings, [copy])
    articles = stages.staged(settings, "articles").collect()
    [(duplicate, original)] = (
        articles.filter(pl.col("duplicate_of").is_not_null())
        .select("doc_id", "duplicate_of")
        .iter_rows()
    )
    assert duplicate == copy
    assert original in set(articles.get_column("article_id"))
    assert stages.reconcile_duplicates(settings) == 0  # flagged already, nothing to mend


def test_a_later_copy_takes_the_first_landed_of_two_taken_for_originals(
    seeds_dir: Path, tmp_path: Path
) -> None:
    # crawler_export.jsonl has the original; duplicate_wire.txt and a reprint of it (another
    # outlet's header) copy it. The copy's partition is committed before the original's (side
    # by side, it finished first), so each takes its own article for the first. The
    # reprint's partition, later, must take the first landed of the two (the files were
    # landed together: by name, the crawler's), as reconciling will.
    source = tmp_path / "source"
    source.mkdir()
    for name in ["crawler_export.jsonl", "duplicate_wire.txt"]:
        shutil.copy(seeds_dir / name, source / name)
    header, rest = (seeds_dir / "duplicate_wire.txt").read_text().split("\n", 1)
    (source / "wire_reprint.txt").write_text("Source: The Harbour Gazette\n" + rest)
    settings = Settings.from_env(source_dir=source, data_dir=tmp_path / "data")
    paths, _ = stages.discover(settings, "test")
    stages.land_batch(settings, paths, "test")
    files = stages.source_files(settings, stages.pending_documents(settings))
    doc = {name: doc_id for doc_id, name in files.items()}
    for name in ["duplicate_wire.txt", "crawler_export.jsonl", "wire_reprint.txt"]:
        stages.process_partition(settings, [doc[name]])
    articles = stages.staged(settings, "articles").collect()
    copies = articles.filter(pl.col("doc_id") != doc["crawler_export.jsonl"])
    [fingerprint] = copies.get_column("fingerprint").unique().to_list()
    [original] = articles.filter(
        (pl.col("doc_id") == doc["crawler_export.jsonl"]) & (pl.col("fingerprint") == fingerprint)
    ).get_column("article_id")
    flags = dict(articles.select("doc_id", "duplicate_of").iter_rows())
    assert flags[doc["wire_reprint.txt"]] == original
    assert flags[doc["duplicate_wire.txt"]] is None  # taken for the first, till reconciled
    assert stages.reconcile_duplicates(settings) == 2  # the two side-by-side partitions' only
    flags = dict(
        stages.staged(settings, "articles").select("doc_id", "duplicate_of").collect().iter_rows()
    )
    assert flags[doc["duplicate_wire.txt"]] == original
    assert flags[doc["wire_reprint.txt"]] == original
    assert stages.reconcile_duplicates(settings) == 0


def test_a_build_starts_from_the_published_warehouse_only_while_the_lake_just_gains_rows(
    settings: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    one_pass(settings, "run-1")
    published = lakeio.versions(settings.lake)
    settings.warehouse_path.write_bytes(b"the published build")
    stages.record_published(settings, "inputs", "run-1", None, published)
    since = {table: published[table] for table in stages.ADDED_TABLES}
    assert stages.added_since(settings, published) == since
    shutil.copy(seeds_dir / "duplicate_wire.txt", settings.source_dir / "duplicate_wire.txt")
    one_pass(settings, "run-2")  # new rows only: the marts add them
    gained = lakeio.versions(settings.lake)
    assert gained["statistics"] > published["statistics"]
    assert stages.added_since(settings, gained) == since
    # anything else, and the build makes every mart whole:
    assert stages.added_since(replace(settings, extractor_version="another"), gained) == {}
    project = tmp_path / "dbt"
    shutil.copytree(settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target"))
    (project / "models" / "marts" / "fct_statistics.sql").write_text("select 1 as statistic_id\n")
    assert stages.added_since(replace(settings, dbt_project_dir=project), gained) == {}
    first = stages.staged(settings, "articles").filter(
        pl.col("source_file") != "duplicate_wire.txt"
    )
    [old] = first.head(1).select("article_id").collect().to_series()
    lakeio.open_table(settings.lake, "articles").delete(f"article_id = '{old}'")  # a file rewritten
    assert stages.added_since(settings, lakeio.versions(settings.lake)) == {}
    assert stages.added_since(settings, gained) == since  # as long as it reads those versions
    settings.warehouse_path.write_bytes(b"another file put in its place")
    assert stages.added_since(settings, gained) == {}


def test_land_records_digests_kept_while_size_and_time_stay(settings: Settings) -> None:
    paths, _ = stages.discover(settings, "run-1")
    assert set(stages.recorded_digests(settings, paths)) == {""}  # nothing read yet
    pipeline.land_task.fn(settings, paths, "run-1")
    digests = stages.recorded_digests(settings, paths)
    assert digests == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    cache = settings.runs_dir / stages.SOURCE_DIGESTS
    # a digest on record is trusted while the file's size and time are those it had
    kept = pl.read_parquet(cache).with_columns(sha256=pl.lit("recorded"))
    kept.write_parquet(cache)
    assert set(stages.recorded_digests(settings, paths)) == {"recorded"}
    first = paths[0]
    first.write_bytes(first.read_bytes().replace(b"Police", b"police"))  # same size, new time
    assert stages.recorded_digests(settings, paths)[0] == ""
    # a cache of whole paths, as written before the keys were relative to the source, holds
    root = os.fsencode(settings.source_dir) + b"/"
    kept.with_columns(path=pl.lit(root) + pl.col("path")).write_parquet(cache)
    assert stages.recorded_digests(settings, paths)[1:] == ["recorded"] * (len(paths) - 1)


def test_a_run_lands_only_the_files_it_has_not_seen(settings: Settings, seeds_dir: Path) -> None:
    paths, _ = stages.discover(settings, "run-1")
    pipeline.land_task.fn(settings, paths, "run-1")
    source = settings.source_dir
    shutil.copy(seeds_dir / "multi_article_page.txt", source / "new.txt")
    changed = source / SEEDS[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nUpdated.\n", encoding="utf-8")
    (source / "large.txt").write_bytes(b"x" * (settings.max_file_bytes + 1))
    scan = stages.scan_source(settings)
    todo = scan.to_land()
    assert sorted(path.name for path in todo) == sorted(["new.txt", SEEDS[0], "large.txt"])
    assert sorted(path.name for path in scan.landed) == sorted(SEEDS[1:])
    # landed, the new and the changed file are in the lake; the large one is quarantined
    landed = pipeline.land_task.fn(settings, todo, "run-2")
    assert sorted(landed.landed) == sorted(["new.txt", SEEDS[0]])
    assert [q["file"] for q in landed.quarantined] == ["large.txt"]
    scan = stages.scan_source(settings)
    assert scan.to_land() == [source / "large.txt"]
    assert sorted(path.name for path in scan.landed) == sorted([*SEEDS, "new.txt"])


def test_a_scan_handed_over_is_taken_once_then_made_anew(settings: Settings) -> None:
    scan = stages.scan_source(settings)
    assert scan.to_land() == scan.paths and not scan.landed  # nothing landed yet
    stages.hand_over(settings, scan)
    assert stages.take_scan(settings) is scan
    (settings.source_dir / "later.txt").write_text("Police arrested 3 smugglers in Calais.\n")
    again = stages.take_scan(settings)  # made now: it sees the file added since
    assert again is not scan and len(again.paths) == len(scan.paths) + 1
    stages.hand_over(settings, again)
    stages.forget_handed()
    assert stages.take_scan(settings) is not again


def test_a_large_lake_is_validated_in_a_process_of_its_own(settings: Settings) -> None:
    one_pass(settings, "run-1")
    versions = lake_versions(settings)
    assert validator.lake_documents(settings, versions) == len(SEEDS)
    assert validator.lake_documents(settings, {**versions, "raw_documents": 0}) <= len(SEEDS)
    small = replace(settings, validate_apart=len(SEEDS) + 1)
    assert not validator.start(small, versions)
    assert not workers.running(validator.APART)
    here = validator.run(validator.check_lake, settings, versions)
    try:
        assert validator.start(replace(settings, validate_apart=len(SEEDS)), versions)
        assert workers.running(validator.APART)
        [pid] = workers.pids()
        assert pid != os.getpid()
        apart = validator.run(validator.check_lake, settings, versions)
    finally:
        workers.shutdown(kill=True)
    # the same outcome, counts and what the next run may rely on; only the timings differ
    for checks in (here, apart):
        for outcome in checks.results.values():
            outcome.pop("seconds", None)
    assert apart == here
    assert "articles" in here.clean


def test_validate_apart_is_a_count_of_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().validate_apart == Settings().validate_apart
    monkeypatch.setenv("TRACELAKE_VALIDATE_APART", "0")
    assert Settings.from_env().validate_apart == 0
    for wrong in ("-1", "many", ""):
        monkeypatch.setenv("TRACELAKE_VALIDATE_APART", wrong)
        with pytest.raises(ValueError, match="TRACELAKE_VALIDATE_APART must be a whole number"):
            Settings.from_env()
