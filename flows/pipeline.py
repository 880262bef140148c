"""The Prefect flow `pipeline`: land -> segment -> extract -> dbt build -> validate -> publish.

Tasks only call tracelake's stage functions, each on a batch of documents; the flow holds no
business logic beyond the order of the stages and the decision to publish.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tracelake import publish, stages, transform, validate
from tracelake.config import Settings
from tracelake.report import RunReport, to_dict


class RunFailed(RuntimeError):
    """The run stopped before publishing; the report says why."""


@task(name="discover", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def discover_task(settings: Settings) -> tuple[list[Path], list[dict]]:
    return stages.discover(settings)


@task(name="land", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def land_task(settings: Settings, paths: list[Path], run_id: str) -> stages.LandSummary:
    return stages.land_batch(settings, paths, run_id)


@task(name="segment", cache_policy=NO_CACHE)
def segment_task(settings: Settings, doc_ids: list[str]) -> stages.BatchSummary:
    return stages.segment_batch(settings, doc_ids)


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(
    settings: Settings, batch: stages.BatchSummary, doc_ids: list[str]
) -> stages.BatchSummary:
    return stages.extract_batch(settings, batch, doc_ids)


@task(name="validate-lake", cache_policy=NO_CACHE)
def validate_lake_task(settings: Settings) -> dict[str, dict]:
    return {
        layer: validate.validate_parquet_layer(layer, tables, settings.expectations_dir).to_dict()
        for layer, tables in validate.lake_layer_tables(settings).items()
    }


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(settings: Settings, warehouse: Path) -> transform.DbtResult:
    return transform.run_dbt(settings, warehouse, "build")


@task(name="validate-marts", cache_policy=NO_CACHE)
def validate_marts_task(settings: Settings, warehouse: Path) -> dict:
    return validate.validate_warehouse(warehouse, settings.expectations_dir).to_dict()


@task(name="publish", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def publish_task(settings: Settings, build: Path) -> Path:
    publish.export_marts(build, settings.marts_dir)
    return publish.publish(build, settings.warehouse_path)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def mart_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1"
        ).fetchall()
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in tables}


def _stage(report: RunReport, name: str, started: float, **counts: object) -> None:
    report.stages[name] = {"seconds": round(time.perf_counter() - started, 3), **counts}


@flow(name="pipeline", log_prints=False)
def pipeline(source_dir: str | None = None, data_dir: str | None = None) -> dict:
    """Run every stage once over the source folder and publish a validated warehouse."""
    settings = Settings.from_env(source_dir=source_dir, data_dir=data_dir)
    logger = get_run_logger()
    run_id = new_run_id()
    report = RunReport.start(
        run_id, settings.source_dir, settings.data_dir, settings.extractor_version
    )
    report.write(settings.runs_dir)
    try:
        _run(settings, report, run_id)
        report.finish("succeeded")
    except Exception as error:  # the report records every failure, then the run fails
        report.finish("failed", f"{type(error).__name__}: {error}")
        report.write(settings.runs_dir)
        logger.error("run %s failed: %s", run_id, error)
        raise
    report.write(settings.runs_dir)
    logger.info("run %s succeeded\n%s", run_id, report.summary())
    return to_dict(report)


def _run(settings: Settings, report: RunReport, run_id: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.build_dir.glob("warehouse-*.duckdb*"):
        stale.unlink()

    started = time.perf_counter()
    paths, unlisted = discover_task(settings)
    report.documents_seen = len(paths) + len(unlisted)
    report.documents_quarantined.extend(unlisted)
    for batch in stages.chunks(paths, settings.batch_size):
        landed = land_task(settings, batch, run_id)
        report.documents_landed += len(landed.landed)
        report.documents_present += len(landed.present)
        report.documents_quarantined.extend(landed.quarantined)
        report.document_problems.extend(landed.problems)
    _stage(report, "land", started, landed=report.documents_landed)

    started = time.perf_counter()
    stages.remove_orphan_parts(settings)
    pending = stages.pending_documents(settings)
    for doc_ids in stages.chunks(pending, settings.batch_size):
        batch = segment_task(settings, doc_ids)
        batch = extract_task(settings, batch, doc_ids)
        report.documents_processed += batch.documents
    stages.ensure_staged_tables(settings)
    counts = stages.staged_counts(settings)
    report.articles, report.statistics, report.entities = (
        counts["articles"], counts["statistics"], counts["entities"],
    )  # fmt: skip
    _stage(report, "segment_extract", started, documents=report.documents_processed)

    started = time.perf_counter()
    report.validation |= validate_lake_task(settings)
    _stage(report, "validate_lake", started)
    _stop_on_critical(report)

    started = time.perf_counter()
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    build = settings.build_dir / f"warehouse-{run_id}.duckdb"
    dbt = dbt_build_task(settings, build)
    report.validation["dbt"] = {
        "success": dbt.success,
        "failures": dbt.failures,
        **({} if dbt.success else {"log_tail": dbt.log_tail}),
    }
    _stage(report, "dbt_build", started)
    if not dbt.success:
        raise RunFailed(f"dbt build failed: {len(dbt.failures)} node(s) did not pass")

    started = time.perf_counter()
    report.validation["marts"] = validate_marts_task(settings, build)
    report.marts = mart_counts(build)
    _stage(report, "validate_marts", started)
    _stop_on_critical(report)

    started = time.perf_counter()
    report.warehouse = str(publish_task(settings, build))
    report.published = True
    _stage(report, "publish", started)


def _stop_on_critical(report: RunReport) -> None:
    failed = [layer for layer, outcome in report.validation.items() if not outcome["success"]]
    if failed:
        raise RunFailed("critical expectations failed in " + ", ".join(failed))
