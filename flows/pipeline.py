"""The Prefect flow `pipeline`: land -> segment -> extract -> dbt build -> validate -> publish.

Tasks only call tracelake's stage functions, each on a batch of documents; the flow holds no
business logic beyond the order of the stages and the decision to publish.
"""

from __future__ import annotations

import contextvars
import json
import resource
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal
from prefect.states import State
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tracelake import lakeio, publish, stages, transform, validator, workers
from tracelake.config import Settings
from tracelake.crashpoints import pause_here
from tracelake.incidents import matcher_version
from tracelake.lakelock import lake_lock
from tracelake.land import SourceMissing, drop_read_ahead
from tracelake.progress import StageProgress
from tracelake.report import RunReport, RunStopped, new_run_id, to_dict
from tracelake.runlock import run_lock


class RunFailed(RuntimeError):
    """The run stopped before publishing; the report says why."""


def _passing_fault(task: object, task_run: object, state: State) -> bool:
    """Retry unless the source folder is missing: that is a mistake, not a passing fault."""
    return not isinstance(state.result(raise_on_failure=False), SourceMissing)


# Retries (with back-off) only on the tasks that touch the source folder or the published
# files, where a failure may be passing (a network share, a file being replaced); the text
# and SQL stages are deterministic, so a retry would fail the same way.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [1, 5], "retry_condition_fn": _passing_fault}


@task(name="discover", cache_policy=NO_CACHE, **IO_RETRIES)
def discover_task(settings: Settings, run_id: str) -> tuple[stages.SourceScan, list[dict]]:
    """The source folder's scan (handed over by `tracelake run`, else made now), and its
    entries that cannot be landed at all, recorded in the quarantine."""
    scan = stages.take_scan(settings)
    return scan, stages.record_unlisted(settings, scan.problems, run_id)


@task(name="land", cache_policy=NO_CACHE, **IO_RETRIES)
def land_task(
    settings: Settings, paths: list[Path], run_id: str, then: list[Path] | None = None
) -> stages.LandSummary:
    """One batch of files; `then`, the run's next batch, is read ahead as this one commits."""
    return stages.land_batch(settings, paths, run_id, then)


@task(name="segment-extract", cache_policy=NO_CACHE)
def segment_extract_task(
    settings: Settings, doc_ids: list[str], processes: int = 0
) -> stages.PartitionOutcome:
    """One partition, here or (processes) in one of the run's worker processes."""
    return workers.call(processes, stages.process_partition, settings, doc_ids)


@task(name="match-incidents", cache_policy=NO_CACHE)
def match_incidents_task(settings: Settings, run_id: str) -> stages.MatchSummary:
    return stages.match_incidents(settings, run_id)


@task(name="validate-lake", cache_policy=NO_CACHE)
def validate_lake_task(settings: Settings, versions: dict[str, int | None]) -> validator.LakeChecks:
    # Great Expectations takes seconds to import: the process that validates imports it
    # beside dbt's build (or match's end), so that a run's start does not wait for it.
    return validator.run(validator.check_lake, settings, versions)


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(
    settings: Settings,
    warehouse: Path,
    versions: dict[str, int | None],
    matcher: str | None,
    started: transform.DbtProcess | None = None,
    since: dict[str, int] | None = None,
) -> transform.DbtResult:
    """dbt build of warehouse from the lake at versions; in `started` when the run started its
    process ahead (for warehouse, with matcher). since: warehouse is a copy of the published
    one, and the incremental marts add the rows of the lake since these versions."""
    if started is None:
        started = transform.DbtProcess(settings, warehouse, "build", transform.BUILD_ARGS, matcher)
    return started.result(versions, since)


@task(name="dbt-docs", cache_policy=NO_CACHE)
def dbt_docs_task(
    settings: Settings,
    warehouse: Path,
    versions: dict[str, int | None],
    matcher: str | None,
    started: transform.DbtProcess | None = None,
) -> transform.DbtResult:
    return transform.generate_docs(settings, warehouse, versions, matcher, started)


@task(name="validate-marts", cache_policy=NO_CACHE)
def validate_marts_task(settings: Settings, warehouse: Path) -> dict:
    return validator.run(validator.check_marts, settings, warehouse)


@task(name="publish", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_task(settings: Settings, build: Path) -> Path:
    return publish.publish(build, settings.warehouse_path)


@task(name="export-marts", cache_policy=NO_CACHE, **IO_RETRIES)
def export_marts_task(settings: Settings) -> dict[str, int]:
    """The published marts as Parquet files (data/marts) and as Delta tables in the lake, in
    a process of their own (publish.export_apart)."""
    return publish.export_apart(settings.warehouse_path, settings.marts_dir, settings.lake)


def mart_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        ).fetchall()
        quoted = {t: '"' + t.replace('"', '""') + '"' for (t,) in tables}  # a name, not a path
        return {t: con.table(f"marts.{name}").aggregate("count(*)").fetchall()[0][0]
                for t, name in quoted.items()}  # fmt: skip


def _stage(report: RunReport, name: str, started: float, **counts: object) -> None:
    # the most memory this process (and, apart, any child: dbt) has held by the stage's end
    peak = {
        f"{key}peak_rss_mib": round(resource.getrusage(who).ru_maxrss / 1024)
        for key, who in (("", resource.RUSAGE_SELF), ("children_", resource.RUSAGE_CHILDREN))
    }
    if (in_workers := workers.peak_rss_mib()) is not None:  # each worker process's, the most
        peak["workers_peak_rss_mib"] = in_workers
    report.stages[name] = {"seconds": round(time.perf_counter() - started, 3), **counts, **peak}
    report.write()  # `tracelake status` shows how far a running (or killed) run got


@flow(name="pipeline", log_prints=False)
def pipeline(
    source_dir: str | None = None,
    data_dir: str | None = None,
    lake: str | None = None,
    task_runner: str = "local",
    dask_address: str | None = None,
    lake_version: str | None = None,
) -> dict:
    """Run every stage once over the source folder and publish a validated warehouse.

    lake: the lake's URL (default <data_dir>/lake). task_runner "dask" runs segment and
    extract, a task per partition, on a Dask cluster (dask_address, else a local one of
    settings.workers processes). lake_version: a run id: rebuild and publish the marts from
    the lake as that run's build read it, landing nothing."""
    settings = Settings.from_env(source_dir=source_dir, data_dir=data_dir, lake_url=lake)
    runner = Runner(task_runner, dask_address)
    logger = get_run_logger()
    # first: a second run must not touch the live report, nor write to the same lake
    with run_lock(settings.data_dir), lake_lock(settings.lake):
        run_id = new_run_id()
        report = RunReport.start(
            run_id, settings.source_dir, settings.data_dir, settings.extractor_version
        )
        report.write(settings.runs_dir)
        try:
            with StageProgress() as progress:
                if lake_version:
                    _rebuild(settings, report, run_id, lake_version)
                else:
                    _run(settings, report, run_id, progress, runner)
            report.finish("succeeded")
        except STOPPING as error:  # a signal: the report says so and where, then it goes on
            name = str(error) if isinstance(error, RunStopped) else _signal_name(error)
            report.finish("stopped", f"stopped by {name} in {report.stopping_stage()}")
            logger.error("run %s %s", run_id, report.error)
            raise
        except BaseException as error:  # the report records every failure, then the run fails
            report.finish("failed", f"{type(error).__name__}: {error}")
            logger.error("run %s failed: %s", run_id, error)
            raise
        finally:
            if report.status != "succeeded":
                workers.shutdown(kill=True)  # stopped or failed on the way: none outlives it
            _tell_operator(settings, report)  # the validation page where validation ran
            workers.shutdown(kill=True)
    logger.info("run %s succeeded\n%s", run_id, report.summary())
    return to_dict(report)


STOPPING = (KeyboardInterrupt, RunStopped, TerminationSignal)


def _signal_name(error: BaseException) -> str:
    if isinstance(error, TerminationSignal):
        return signal.Signals(error.signal).name
    return "SIGINT"


def _tell_operator(settings: Settings, report: RunReport) -> None:
    """The run report (runs/<run_id>.json, runs/latest.json), the same as a Prefect artifact,
    and the validation page (site/gx/index.html); the last two never fail the run."""
    report.write(settings.runs_dir)
    try:
        create_markdown_artifact(
            markdown=report.to_markdown(),
            key="tracelake-run-report",
            description=f"tracelake run {report.run_id}: {report.status}",
        )
        if report.validation:
            validator.run(
                validator.write_site,
                report.validation,
                settings.expectations_dir,
                settings.site_dir / "gx",
                f"tracelake run {report.run_id}: validation ({report.status})",
            )
    except Exception as error:  # noqa: BLE001 - telling is best effort; the report is written
        get_run_logger().warning("could not publish the run's artifact or page: %s", error)


@dataclass(frozen=True)
class Runner:
    """Where segment and extract run: "local" (here, or settings.workers processes) or
    "dask" (a Dask cluster through prefect-dask: the one at address, else a local one)."""

    kind: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("local", "dask"):
            raise ValueError(f"task runner must be local or dask, not {self.kind!r}")

    def task_runner(self, settings: Settings, parts: int, processes: int) -> TaskRunner | None:
        """Prefect's task runner for this many partitions (to `processes` worker processes);
        None: their tasks run here, in order."""
        if self.kind == "dask":
            from prefect_dask import DaskTaskRunner

            if self.address:
                return DaskTaskRunner(address=self.address)
            if parts < 2:  # a local cluster's start costs more than one partition here
                return None
            count = max(1, min(settings.workers, parts))
            return DaskTaskRunner(cluster_kwargs={"n_workers": count, "threads_per_worker": 1,
                                                  "processes": True,
                                                  "env": workers.thread_limits(count)})  # fmt: skip
        if parts < 2 or not processes:
            return None
        # Tasks in threads here, each handing its partition to one of the run's worker
        # processes (tracelake.workers), started once and shared with land. Prefect's own
        # process pool started each worker with its engine: 8 s before the first partition.
        return ThreadPoolTaskRunner(max_workers=min(processes, parts))

    def processes(self, settings: Settings, documents: int) -> int:
        """How many of the run's worker processes segment and extract this many documents;
        0: none, they run where the task runs (here, or on a Dask worker). Even one partition
        goes to a worker when it is worth a worker's start: the flow's process then never
        holds a partition's memory."""
        if self.kind == "dask" or settings.workers < 2 or documents < stages.MIN_PARTITION:
            return 0
        return settings.workers


def _segment_extract(
    settings: Settings, parts: list[list[str]], runner: Runner, processes: int
) -> Iterator[tuple[list[str], stages.PartitionOutcome]]:
    """Each partition's outcome, in order. Partitions run side by side on the task runner
    (`processes` worker processes, or a Dask cluster), else one after another from here."""
    if processes:
        workers.pool(processes)  # started from this thread, which they live no longer than
    task_runner = runner.task_runner(settings, len(parts), processes) if parts else None
    if task_runner is None:
        for doc_ids in parts:
            yield doc_ids, segment_extract_task(settings, doc_ids, processes)
        return
    with task_runner as started:
        try:
            arguments = {"settings": settings, "processes": processes}
            futures = [
                (ids, started.submit(segment_extract_task, arguments | {"doc_ids": ids}))
                for ids in parts
            ]
            for doc_ids, future in futures:
                yield doc_ids, future.result()
        except BaseException:
            # A stopped or failed run: the task runner's exit waits for the partitions under
            # way, which must not run on.
            workers.shutdown(kill=True)
            raise


def _run(
    settings: Settings, report: RunReport, run_id: str, progress: StageProgress, runner: Runner
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stages.remove_leftovers(settings)  # of a run that was killed
    report.lake = settings.lake.url

    started = time.perf_counter()
    scan, unlisted = discover_task(settings, run_id)
    report.documents_seen = len(scan.paths) + len(unlisted)
    report.documents_quarantined.extend(unlisted)
    paths = scan.to_land()  # the files whose bytes are documents landed before are present
    report.documents_present += len(scan.paths) - len(paths)
    if expected := runner.processes(settings, len(paths)):
        # they start and load what segmenting needs as land runs
        workers.pool(expected, workers.warm_segmenting)
    progress.stage("land", len(paths), unit="files")
    batches = stages.chunks(paths, settings.batch_size)
    try:
        for number, batch in enumerate(batches, 1):
            then = batches[number] if number < len(batches) else None
            landed = land_task(settings, batch, run_id, then)
            report.documents_landed += len(landed.landed)
            report.documents_present += len(landed.present)
            report.documents_quarantined.extend(landed.quarantined)
            report.document_problems.extend(landed.problems)
            progress.advance("land", len(batch))
            pause_here("land")
    finally:
        drop_read_ahead(run_id)  # left by a batch that failed or was stopped
    _stage(report, "land", started, landed=report.documents_landed)

    started = time.perf_counter()
    stages.remove_orphan_rows(settings)
    pending = stages.pending_documents(settings)
    progress.stage("segment", len(pending))
    progress.stage("extract", len(pending))
    processes = runner.processes(settings, len(pending))
    # the run's worker processes, when it has them, are started: small runs use them all too
    parts = stages.partitions(pending, settings.batch_size, settings.workers, bool(processes))
    for doc_ids, outcome in _segment_extract(settings, parts, runner, processes):
        report.documents_processed += outcome.documents
        report.documents_failed.extend(outcome.failed)
        for failed in outcome.failed:  # left pending: the next run tries them again
            get_run_logger().error("segment/extract failed on %(file)s: %(error)s", failed)
        progress.advance("segment", len(doc_ids))
        progress.advance("extract", len(doc_ids))

    # dbt's process imports dbt and parses the project on the other core while the partitions'
    # rows are settled and matched; the build then only waits for the lake's versions.
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    dbt = transform.DbtProcess(
        settings, _build_path(settings), "build", transform.BUILD_ARGS, matcher_version()
    )
    try:
        # its merge rewrites the articles' files: their memory stays in a worker, if any
        workers.call(processes, stages.reconcile_duplicates, settings)
        stages.remove_superseded(settings)
        stages.ensure_lake_tables(settings)
        counts = stages.staged_counts(settings)
        report.articles, report.statistics, report.entities = (
            counts["articles"], counts["statistics"], counts["entities"],
        )  # fmt: skip
        _stage(
            report, "segment_extract", started, documents=report.documents_processed,
            partitions=len(parts),
            workers=processes or (min(settings.workers, len(parts)) if runner.kind == "dask"
                                  else 1),
        )  # fmt: skip
        workers.shutdown()  # their memory back before match and the build

        started = time.perf_counter()
        matched = match_incidents_task(settings, run_id)
        pause_here("match")
        _stage(
            report, "match_incidents", started,
            articles=matched.articles, joined=matched.joined, incidents=matched.incidents,
        )  # fmt: skip
        # The versions the build reads, pinned: a commit by another writer meanwhile is left
        # to the next build.
        report.lake_versions = lakeio.versions(settings.lake)
        report.matcher_version = matcher_version()
        _build(settings, report, run_id, dbt)
    finally:
        dbt.cancel()  # unused: nothing to build, or the run failed before the build


def _rebuild(settings: Settings, report: RunReport, run_id: str, source_run: str) -> None:
    """Build and publish the marts from the lake as the build of run source_run read it."""
    path = settings.runs_dir / f"{source_run}.json"
    if Path(source_run).name != source_run or not path.exists():
        raise RunFailed(f"no report of run {source_run!r} in {settings.runs_dir}")
    earlier = RunReport(**json.loads(path.read_text()))
    if not earlier.lake_versions:
        raise RunFailed(f"run {source_run} recorded no lake versions (it built nothing)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stages.remove_leftovers(settings)
    report.lake = settings.lake.url
    report.rebuilt_from = source_run
    report.extractor_version = earlier.extractor_version
    report.lake_versions = earlier.lake_versions
    report.matcher_version = earlier.matcher_version
    for stage in ("land", "segment_extract", "match_incidents"):
        _stage(report, stage, time.perf_counter(), skipped=f"rebuilt from run {source_run}")
    # whole: the lake versions of an earlier run are not those the published build added to
    _build(replace(settings, extractor_version=earlier.extractor_version), report, run_id,
           incremental=False)  # fmt: skip


def _build_path(settings: Settings) -> Path:
    """The warehouse a run builds. One name for every build (runs never overlap): dbt's
    profile stays the same from run to run, so dbt re-parses only what changed instead of
    the whole project."""
    return settings.build_dir / "warehouse_next.duckdb"


def _build(
    settings: Settings,
    report: RunReport,
    run_id: str,
    dbt_started: transform.DbtProcess | None = None,
    incremental: bool = True,
) -> None:
    """Validate the lake, build, validate and publish the warehouse, from the lake versions
    and matcher version the report names (dbt_started: the build's dbt process, started
    ahead for that matcher version). incremental: the build may start from the published
    warehouse when the lake only gained rows since (stages.added_since)."""
    versions, matcher = report.lake_versions, report.matcher_version
    inputs = stages.build_inputs(settings, versions, matcher)
    if current := stages.warehouse_is_current(settings, inputs):
        # Nothing new since the published build: no dbt work, the warehouse stays.
        report.up_to_date, report.warehouse = True, str(settings.warehouse_path)
        _stage(report, "build", time.perf_counter(), skipped=f"nothing new since run {current}")
        return

    started = time.perf_counter()
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    build = _build_path(settings)
    # on a copy of the published warehouse when the lake only gained rows since its build
    since = stages.added_since(settings, versions) if incremental else {}
    publish.start_build(build, settings.warehouse_path if since else None)
    validator.start(settings, versions)  # from this thread, when the lake is large
    # The lake is validated here while dbt, in its own process, builds from the same
    # versions: a critical failure still stops the run before the build is validated or
    # published, and the validation no longer adds its time to the build's.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="validate-lake") as side:
        validating = side.submit(
            contextvars.copy_context().run, _validate_lake, settings, report, versions
        )
        try:
            dbt = dbt_build_task(settings, build, versions, matcher, dbt_started, since)
        except BaseException:  # stopped or failed: the validating process, if any, ends now
            workers.shutdown(kill=True)
            raise
        lake_checks = validating.result()  # before anything else writes the report
    _stop_on_critical(report)
    report.validation["dbt"] = {
        "success": dbt.success,
        "failures": dbt.failures,
        **({} if dbt.success else {"log_tail": dbt.log_tail}),
    }
    _stage(report, "dbt_build", started, incremental=bool(since))
    if not dbt.success:
        raise RunFailed(f"dbt build failed: {len(dbt.failures)} node(s) did not pass")

    site: dict[str, object] = {"site": str(settings.site_dir / "dbt")}
    docs: transform.DbtProcess | None = None
    if not settings.docs:
        site["skipped"] = "TRACELAKE_DOCS is off"
    elif transform.docs_are_current(settings):  # the data changed, the models did not
        site["skipped"] = "the dbt project is unchanged since the site was generated"
    else:  # its process imports dbt and parses while the marts are validated here
        docs = transform.DbtProcess(settings, build, "docs", transform.DOCS_ARGS, matcher)
    try:
        started = time.perf_counter()
        report.validation["marts"] = validate_marts_task(settings, build)
        pause_here("validate")
        report.marts = mart_counts(build)
        _stage(report, "validate_marts", started)
        _stop_on_critical(report)

        started = time.perf_counter()  # docs are for people: a failure is reported, not fatal
        if docs is not None:
            generated = dbt_docs_task(settings, build, versions, matcher, docs)
            site["success"] = generated.success
            if not generated.success:
                site["log_tail"] = generated.log_tail
        _stage(report, "dbt_docs", started, **site)
    finally:
        if docs is not None:
            docs.cancel()  # unused: the marts failed their validation, or the run stopped

    started = time.perf_counter()
    report.warehouse = str(publish_task(settings, build))
    report.published = True
    stages.record_published(settings, inputs, run_id, lake_checks, versions)
    # after the rename: the copies never run ahead of the warehouse
    in_lake = export_marts_task(settings)
    _stage(report, "publish", started, marts_in_lake=settings.lake.mart_uri("*"),
           mart_versions=in_lake)  # fmt: skip


def _validate_lake(
    settings: Settings, report: RunReport, versions: dict[str, int | None]
) -> tuple[str, dict[str, int]]:
    """Validate the lake at versions, into the report (its only writer until this returns).
    A critical failure ends the dbt build under way: the run will stop without it. Returns
    what the validation depended on, and the lake tables in which it found nothing wrong
    (for the next run's validation)."""
    started = time.perf_counter()
    checks = validate_lake_task(settings, versions)
    report.validation |= checks.results
    _stage(report, "validate_lake", started)
    if not all(outcome["success"] for outcome in checks.results.values()):
        transform.stop_dbt()
    return checks.digest, checks.clean


def _stop_on_critical(report: RunReport) -> None:
    failed = [layer for layer, outcome in report.validation.items() if not outcome["success"]]
    if failed:
        raise RunFailed("critical expectations failed in " + ", ".join(failed))
