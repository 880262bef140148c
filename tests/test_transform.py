"""dbt on the warehouse built from seeds/: the documentation site, and the docs it holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tracelake import dbt_process, transform
from tracelake.config import Settings


def test_docs_site_is_generated_after_the_build(seeds_build: tuple[dict, Path, Path]) -> None:
    report, _, data = seeds_build
    assert report["stages"]["dbt_docs"]["success"] is True
    site = data / "site" / "dbt"
    shown = sorted(path.name for path in site.iterdir() if not path.name.startswith("."))
    assert shown == sorted(transform.DOCS_FILES)
    catalog = json.loads((site / "catalog.json").read_text())
    assert {f"model.tracelake.{table}" for table in report["marts"]} <= set(catalog["nodes"])
    assert "fct_prices" in (site / "static_index.html").read_text(encoding="utf-8")


def test_every_mart_states_its_grain_and_describes_every_column(
    seeds_build: tuple[dict, Path, Path],
) -> None:
    report, _, data = seeds_build
    site = data / "site" / "dbt"
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    for table in report["marts"]:
        key = f"model.tracelake.{table}"
        node = manifest["nodes"][key]
        assert node["description"].startswith("One row per"), table
        assert node["config"]["contract"]["enforced"] is True, table
        documented = {
            name for name, column in node["columns"].items() if column["description"].strip()
        }
        assert set(catalog["nodes"][key]["columns"]) == documented, table


def test_docs_are_regenerated_only_when_the_dbt_project_changes(
    seeds_build: tuple[dict, Path, Path], tmp_path: Path
) -> None:
    _, source, data = seeds_build
    project = tmp_path / "dbt"
    ignore = shutil.ignore_patterns("target", "logs")
    shutil.copytree(Settings.from_env().dbt_project_dir, project, ignore=ignore)
    settings = Settings.from_env(source_dir=source, data_dir=data, dbt_project_dir=project)
    assert transform.docs_are_current(settings)
    model = project / "models" / "marts" / "fct_prices.sql"
    model.write_text(model.read_text() + "\n", encoding="utf-8")
    assert not transform.docs_are_current(settings)


def test_the_dbt_unit_tests_pass_and_the_pipeline_build_leaves_them_out(
    seeds_build: tuple[dict, Path, Path], tmp_path: Path
) -> None:
    _, source, data = seeds_build
    # the lake of the seeds' run, read; the warehouse and dbt's target here
    settings = Settings.from_env(source_dir=source, data_dir=tmp_path, lake_url=str(data / "lake"))
    result = transform.run_dbt(
        settings, tmp_path / "unit.duckdb", "build", transform.UNIT_TEST_ARGS
    )
    assert result.success, result.log_tail
    run = json.loads((transform.dbt_target_dir(settings) / "run_results.json").read_text())
    kinds = [node["unique_id"].split(".")[0] for node in run["results"]]
    assert kinds.count("unit_test") >= 10
    assert "test" not in kinds
    pipeline_log = (data / "build" / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert " START sql table model marts.fct_incidents " in pipeline_log
    assert " START unit_test " not in pipeline_log


def test_a_dbt_process_started_ahead_ends_unused_when_cancelled(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=tmp_path)
    started = transform.DbtProcess(settings, tmp_path / "unused.duckdb")
    started.cancel()
    assert started.proc.returncode is not None
    assert started.proc not in transform._running
    assert not (tmp_path / "unused.duckdb").exists()


def test_a_dbt_process_takes_only_the_lake_versions_and_a_selection_late() -> None:
    pinned = transform.lake_version_env({"articles": 3, "statistics": None})
    assert pinned == {"TRACELAKE_LAKE_VERSION_ARTICLES": "3"}
    selection = ["--select", "resource_type:model"]
    late = json.dumps({"env": pinned, "args": selection})
    assert dbt_process.late_input(late) == (pinned, selection)
    with pytest.raises(ValueError, match="TRACELAKE_WAREHOUSE"):
        dbt_process.late_input('{"env": {"TRACELAKE_WAREHOUSE": "elsewhere.duckdb"}}')
    with pytest.raises(ValueError, match="selection"):
        dbt_process.late_input('{"args": ["--target-path", "elsewhere"]}')
    with pytest.raises(ValueError, match="selection"):
        dbt_process.late_input('{"args": ["--select"]}')
