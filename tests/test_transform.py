"""dbt on the warehouse built from seeds/: the documentation site, and the docs it holds."""

from __future__ import annotations

import json
from pathlib import Path

from tracelake import transform


def test_docs_site_is_generated_after_the_build(seeds_build: tuple[dict, Path, Path]) -> None:
    report, _, data = seeds_build
    assert report["stages"]["dbt_docs"]["success"] is True
    site = data / "site" / "dbt"
    assert sorted(path.name for path in site.iterdir()) == sorted(transform.DOCS_FILES)
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
