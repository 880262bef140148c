"""Readers that hold the warehouse open while the scheduled flow publishes a new build.

Two readers hold the published file: a read-only DuckDB connection in this process, and a
BI tool's connection (SQLAlchemy through duckdb-engine) in a process of its own. They are in
two processes because DuckDB keeps one database instance per file and process, and refuses a
second with another configuration (duckdb-engine sets a user agent).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.pipeline import pipeline

pytestmark = pytest.mark.usefixtures("prefect_server")

COUNTED = ("dim_documents", "dim_articles", "fct_statistics", "fct_incidents", "fct_prices")
# A BI tool's connection: it answers each line of SQL read from stdin with the first value.
BI_READER = """
import sys
from sqlalchemy import create_engine, text

engine = create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
with engine.connect() as connection:
    for line in sys.stdin:
        print(connection.execute(text(line)).scalar(), flush=True)
"""
NEW_DOCUMENT = """Police break up gang that smuggled migrants in refrigerated lorries

Published: 4 March 2024

Police in Austria arrested 11 people suspected of smuggling migrants through Hungary in
refrigerated lorries, prosecutors said on Monday. Officers rescued 64 migrants, among them
9 children, from two lorries stopped near the border. The migrants told investigators they
had paid €5,000 each for the journey from Serbia to Vienna.
"""


class BIReader:
    """A reader in a process of its own, holding one SQLAlchemy connection open."""

    def __init__(self, warehouse: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BI_READER, str(warehouse)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def count(self, table: str) -> int:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"select count(*) from marts.{table}\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        assert self.process.wait(timeout=60) == 0


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in COUNTED}


def counts_in_new_process(warehouse: Path) -> dict[str, int]:
    """Row counts as a reader that connects now, from a process of its own, sees them."""
    code = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps({t: con.execute(f'select count(*) from marts.{t}').fetchone()[0]"
        " for t in sys.argv[2:]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(warehouse), *COUNTED],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_readers_keep_their_build_while_a_new_one_is_published(
    seeds_build: tuple[dict, Path, Path], tmp_path: Path
) -> None:
    _, seeds_source, seeds_data = seeds_build
    source, data = tmp_path / "source", tmp_path / "data"
    shutil.copytree(seeds_source, source)
    shutil.copytree(seeds_data, data)
    warehouse = data / "warehouse.duckdb"

    analyst = duckdb.connect(str(warehouse), read_only=True)
    bi_tool = BIReader(warehouse)
    try:
        before = counts(analyst)
        assert bi_tool.count("dim_documents") == before["dim_documents"]

        (source / "lorries_2024.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
        report = pipeline(str(source), str(data))

        assert report["status"] == "succeeded"
        assert report["published"] is True
        assert report["documents_landed"] == 1
        # The open readers still read the build they opened, whole.
        assert counts(analyst) == before
        assert bi_tool.count("dim_documents") == before["dim_documents"]
        assert bi_tool.count("fct_statistics") == before["fct_statistics"]
    finally:
        analyst.close()
        bi_tool.close()

    # A reader that connects now sees the new build.
    after = counts_in_new_process(warehouse)
    assert after["dim_documents"] == before["dim_documents"] + 1
    assert after["dim_articles"] > before["dim_articles"]
    assert after["fct_statistics"] > before["fct_statistics"]
    bi_tool = BIReader(warehouse)
    try:
        assert bi_tool.count("dim_documents") == after["dim_documents"]
    finally:
        bi_tool.close()
    # So does this process, once it has closed every connection to the old build.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert counts(con) == after
