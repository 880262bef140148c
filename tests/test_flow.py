"""The Prefect flow end to end on the sample corpus, under a temporary Prefect server."""

from __future__ import annotations

import fcntl
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.pipeline import pipeline
from tracelake import lakeio, processes, stages
from tracelake.config import Settings
from tracelake.runlock import LOCK_FILE, RunLocked
from tracelake.validate import LAKE_LAYERS

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def first_run(seeds_build: tuple[dict, Path, Path]) -> tuple[dict, Path]:
    """The session's build of seeds/ (tests/conftest.py): read it, or copy it to write."""
    report, _, data = seeds_build
    return report, data


def test_run_report(first_run: tuple[dict, Path], seeds_dir: Path) -> None:
    report, data = first_run
    seeds = [p for p in seeds_dir.iterdir() if p.is_file()]
    assert report["status"] == "succeeded"
    assert report["published"] is True
    assert report["documents_seen"] == len(seeds)
    assert report["documents_landed"] == len(seeds)
    assert report["documents_present"] == 0
    assert report["documents_quarantined"] == []  # tests/test_bad_input.py sends bad files
    assert report["articles"] > len(seeds)
    assert report["statistics"] > 0
    assert {"raw_documents", "staged_articles", "marts", "dbt"} <= set(report["validation"])
    assert all(v["success"] for v in report["validation"].values())
    latest = json.loads((data / "runs" / "latest.json").read_text())
    assert latest == json.loads((data / "runs" / f"{report['run_id']}.json").read_text())


def test_warehouse_is_published_with_the_marts(first_run: tuple[dict, Path]) -> None:
    report, data = first_run
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert {"dim_articles", "fct_statistics", "bridge_article_entities", "fct_incidents",
                "dim_documents"} <= tables  # fmt: skip
        documents = con.execute("select count(*) from marts.dim_documents").fetchone()[0]
        relevant_stats = con.execute(
            "select count(*) from marts.fct_statistics s join marts.dim_articles a "
            "using (article_id) where not a.is_relevant"
        ).fetchone()[0]
    assert documents == report["documents_landed"]
    assert relevant_stats == 0
    assert not list((data / "build").glob("warehouse_*.duckdb"))
    assert (data / "marts" / "fct_statistics.parquet").exists()


def test_second_run_on_the_same_input_does_no_new_work(
    first_run: tuple[dict, Path], tmp_path: Path
) -> None:
    report, shared = first_run
    data = tmp_path / "data"
    shutil.copytree(shared, data)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute("select * from marts.fct_statistics order by all").fetchall()
    published = (data / "warehouse.duckdb").stat().st_mtime_ns
    again = pipeline(report["source_dir"], str(data))
    # nothing new: no dbt work, nothing published, the published warehouse is current
    assert again["up_to_date"] is True and again["published"] is False
    assert "dbt_build" not in again["stages"]
    assert again["stages"]["build"]["skipped"] == f"nothing new since run {report['run_id']}"
    assert (data / "warehouse.duckdb").stat().st_mtime_ns == published
    assert again["documents_landed"] == 0
    assert again["documents_present"] == report["documents_landed"]
    assert again["documents_processed"] == 0
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        after = con.execute("select * from marts.fct_statistics order by all").fetchall()
    assert after == before


def test_critical_expectation_stops_the_run_before_publishing(
    first_run: tuple[dict, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, data = first_run
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    published = (copy / "warehouse.duckdb").read_bytes()
    dbt_log = copy / "build" / "dbt" / "logs" / "dbt.log"
    builds = dbt_log.read_text().count("Finished running")
    strict = tmp_path / "expectations"
    shutil.copytree(Path(__file__).parent.parent / "expectations", strict)
    suite_file = strict / "staged_statistics.json"
    suite = json.loads(suite_file.read_text())
    # Demand a metric that no statistic has: every row breaks it.
    suite["tables"]["statistics"]["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "metric", "value_set": ["no_such_metric"]},
            "severity": "critical",
        }
    )
    suite_file.write_text(json.dumps(suite))
    monkeypatch.setenv("TRACELAKE_EXPECTATIONS_DIR", str(strict))
    with pytest.raises(Exception, match="critical expectations failed in staged_statistics"):
        pipeline(report["source_dir"], str(copy))
    failed = json.loads((copy / "runs" / "latest.json").read_text())
    assert failed["status"] == "failed"
    assert failed["published"] is False
    # the lake was validated while dbt built from it: the failure ended that build
    assert dbt_log.read_text().count("Finished running") == builds
    outcome = failed["validation"]["staged_statistics"]
    assert outcome["success"] is False
    [failure] = outcome["failures"]
    assert failure["expectation_type"] == "expect_column_values_to_be_in_set"
    assert failure["unexpected_count"] == report["statistics"]
    assert (copy / "warehouse.duckdb").read_bytes() == published
    # the operator is told of a failed run too: the validation page and the run's artifact
    page = (copy / "site" / "gx" / "index.html").read_text()
    assert "<h2>staged_statistics: FAILED</h2>" in page
    assert f"failed: {report['statistics']} of {report['statistics']} rows" in page
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.request(
            "POST",
            "/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["tracelake-run-report"]}}, "limit": 50,
                  "offset": 0, "sort": "CREATED_DESC"},
        ).json()  # fmt: skip
    [markdown] = [a["data"] for a in artifacts if failed["run_id"] in a["data"]]
    assert "| status | failed: RunFailed: critical expectations failed in" in markdown
    assert "| staged_statistics | FAILED | 1 |" in markdown


def test_a_flow_run_refuses_a_data_dir_that_another_run_holds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with open(data / LOCK_FILE, "a+") as held:  # as `tracelake run` or a scheduled run holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunLocked, match=f"another run is using {data}"):
            pipeline(str(tmp_path), str(data))
    assert not (data / "runs").exists()  # the live run's report is left alone


def test_off_topic_and_duplicate_articles_stay_out_of_the_figures(
    first_run: tuple[dict, Path],
) -> None:
    _, data = first_run
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        off_topic = con.execute(
            "select count(*) from marts.dim_articles where not is_relevant"
        ).fetchone()[0]
        copies = con.execute(
            "select a.article_id, a.duplicate_of_article_id, count(s.statistic_id) "
            "from marts.dim_articles as a left join marts.fct_statistics as s using (article_id) "
            "where a.source_file = 'duplicate_wire.txt' group by all"
        ).fetchall()
        original_figures = con.execute(
            "select count(*) from marts.fct_statistics where article_id = ?",
            [copies[0][1]],
        ).fetchone()[0]
    assert off_topic >= 5
    assert len(copies) == 1
    assert copies[0][1] is not None
    assert copies[0][2] == 0
    assert original_figures > 0


VERACRUZ_ES = (
    "Hallan a 129 migrantes encerrados en un tráiler abandonado en Veracruz\n"
    "19 de mayo de 2023\n\n"
    "Soldados y agentes del Instituto Nacional de Migración encontraron a 129 migrantes, "
    "entre ellos 31 menores no acompañados, dentro de la caja sellada de un tráiler "
    "abandonado en una carretera de Veracruz. Los migrantes dijeron haber pagado 4,500 "
    "dólares por persona a una red de traficantes que prometió llevarlos a Reynosa. La "
    "fiscalía abrió una investigación por tráfico de personas.\n"
)


def copy_of_run(report: dict, data: Path, folder: Path) -> tuple[Path, Path]:
    """A copy of a run's source dir and data dir under folder, to run again on."""
    source, copy = folder / "source", folder / "data"
    shutil.copytree(report["source_dir"], source)
    shutil.copytree(data, copy)
    return source, copy


def test_a_new_report_joins_its_incident_and_renames_none(
    first_run: tuple[dict, Path], tmp_path: Path
) -> None:
    report, data = first_run
    source, copy = copy_of_run(report, data, tmp_path)
    query = "select article_id, title, incident_id from marts.dim_articles order by 1"
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        before = {a: (f, i) for a, f, i in con.execute(query).fetchall()}
        incidents_before = con.execute("select count(*) from marts.fct_incidents").fetchone()[0]
    (source / "veracruz_es.txt").write_text(VERACRUZ_ES, encoding="utf-8")
    # the seeds build made the site; this run validates in a process of its own
    with processes.environment({"TRACELAKE_DOCS": "on", "TRACELAKE_VALIDATE_APART": "0"}):
        again = pipeline(str(source), str(copy))
    assert again["stages"]["match_incidents"]["articles"] == 1
    assert "workers_peak_rss_mib" not in again["stages"]["match_incidents"]
    for stage in ("validate_lake", "validate_marts"):
        assert again["stages"][stage]["workers_peak_rss_mib"] > 0, stage  # validated apart
    page = (copy / "site" / "gx" / "index.html").read_text(encoding="utf-8")
    assert f"tracelake run {again['run_id']}: validation (succeeded)" in page
    # a lake table the first run's validation found nothing wrong in: its new rows alone
    # are checked row by row
    clean = [layer for layer in LAKE_LAYERS if not report["validation"][layer]["failures"]]
    assert "staged_articles" in clean
    for layer in clean:
        outcome = again["validation"][layer]
        [(table, newer)] = outcome["new_rows_only"].items()
        assert newer["checked_by"] == report["run_id"]
        assert 0 < newer["rows"] < outcome["rows"][table]
    skipped = again["stages"]["dbt_docs"]["skipped"]  # new data, the same models
    assert skipped == "the dbt project is unchanged since the site was generated"
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        after = {a: (f, i) for a, f, i in con.execute(query).fetchall()}
        incidents_after = con.execute("select count(*) from marts.fct_incidents").fetchone()[0]
        joined = con.execute(
            "select b.matched_article_id, b.shared_keys, i.article_count "
            "from marts.bridge_incident_articles b join marts.fct_incidents i using (incident_id) "
            "join marts.dim_articles a using (article_id) where a.source_file = 'veracruz_es.txt'"
        ).fetchone()
    assert {a: after[a] for a in before} == before  # no incident renamed
    [(new_title, new_incident)] = [v for a, v in after.items() if a not in before]
    assert new_title.startswith("Hallan a 129 migrantes")
    # the English report (crawler_export.jsonl) and its copy (duplicate_wire.txt)
    veracruz = {i for t, i in before.values() if t.startswith("Mexican authorities find 129")}
    assert len(veracruz) == 1
    assert new_incident in veracruz  # the Spanish report joined the English one's incident
    assert incidents_after == incidents_before
    assert joined[0] in before and joined[1] and joined[2] >= 2


def mart_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, without the columns that say when or in which run."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_name, list(column_name order by ordinal_position) "
            "from information_schema.columns where table_schema = 'marts' "
            "and not (column_name like '%\\_at' escape '\\' "
            "or column_name in ('run_id', 'ingest_date')) group by all"
        ).fetchall()
        return {
            table: con.execute(
                f"select {', '.join(cols)} from marts.{table} order by all"  # names from DuckDB
            ).fetchall()
            for table, cols in columns
        }


def test_a_build_on_the_published_warehouse_gives_the_marts_of_a_whole_build(
    first_run: tuple[dict, Path], tmp_path: Path
) -> None:
    report, data = first_run
    source, copy = copy_of_run(report, data, tmp_path)
    before = mart_rows(copy / "warehouse.duckdb")
    # An article already published is linked to another incident meanwhile (as a new matcher
    # version may link it): the build must give it the incident the lake says now.
    settings = Settings.from_env(source_dir=source, data_dir=copy)
    links = stages.incident_links(settings).sort("article_id").collect()
    [moved, *_], [*_, target] = links.get_column("article_id"), links.get_column("incident_id")
    assert links.get_column("incident_id")[0] != target
    lakeio.open_table(settings.lake, "incident_links").update(
        {"incident_id": lakeio.sql_text(target)}, predicate=f"article_id = '{moved}'"
    )
    (source / "veracruz_es.txt").write_text(VERACRUZ_ES, encoding="utf-8")
    added = pipeline(str(source), str(copy))
    assert added["stages"]["dbt_build"]["incremental"] is True  # the lake only gained rows
    # the seeds and their own tests as published; every test of a model, seeds' included
    ran = json.loads((copy / "build" / "dbt" / "target" / "run_results.json").read_text())
    nodes = {result["unique_id"].split(".")[0] for result in ran["results"]}
    assert "seed" not in nodes and "model" in nodes
    tests = {result["unique_id"].split(".")[-2] for result in ran["results"]}
    assert "relationships_fct_statistics_metric__metric__ref_metrics_" in tests
    assert "unique_metrics_metric" not in tests
    incremental = mart_rows(copy / "warehouse.duckdb")
    for mart in ("dim_documents", "dim_articles", "fct_statistics", "bridge_article_entities"):
        assert len(before[mart]) < len(incremental[mart])  # the new report's rows, added
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        query = "select incident_id from marts.dim_articles where article_id = ?"
        assert con.execute(query, [moved]).fetchone() == (target,)
    # the same lake, without the record of what the published warehouse was built from
    again = tmp_path / "again"
    shutil.copytree(copy, again)
    (again / "runs" / stages.PUBLISHED_RECORD).unlink()
    whole = pipeline(str(source), str(again))
    assert whole["stages"]["dbt_build"]["incremental"] is False
    ran = json.loads((again / "build" / "dbt" / "target" / "run_results.json").read_text())
    assert "seed" in {result["unique_id"].split(".")[0] for result in ran["results"]}
    assert mart_rows(again / "warehouse.duckdb") == incremental


def test_partitions_side_by_side_give_the_marts_of_one_process(
    seeds_build: tuple[dict, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, source, data = seeds_build
    monkeypatch.setattr(stages, "MIN_PARTITION", 1)  # the sample corpus in two partitions
    monkeypatch.setattr(stages, "MIN_SHARE", 1)
    monkeypatch.setenv("TRACELAKE_WORKERS", "2")
    report = pipeline(str(source), str(tmp_path / "data"))
    assert report["status"] == "succeeded"
    assert report["documents_processed"] == len(list(source.iterdir()))
    assert report["stages"]["segment_extract"]["partitions"] == 2
    assert report["stages"]["segment_extract"]["workers"] == 2
    assert report["stages"]["segment_extract"]["workers_peak_rss_mib"] > 0  # ran in workers
    assert "workers_peak_rss_mib" not in report["stages"]["dbt_build"]  # they stopped
    assert mart_rows(tmp_path / "data" / "warehouse.duckdb") == mart_rows(data / "warehouse.duckdb")
