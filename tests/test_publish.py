"""Publish: readers keep a consistent view while a new build replaces the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from tracelake import publish
from tracelake.lake import Lake


def build(path: Path, rows: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"create table marts.fct_statistics as select range as value from range({rows})"
        )
    return path


def test_publish_replaces_while_a_reader_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    publish.publish(build(tmp_path / "build-1.duckdb", 3), target)
    reader = duckdb.connect(str(target), read_only=True)
    publish.publish(build(tmp_path / "build-2.duckdb", 5), target)
    assert reader.execute("select count(*) from marts.fct_statistics").fetchone() == (3,)
    reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.fct_statistics").fetchone() == (5,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_publish_from_another_folder(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    target = tmp_path / "out" / "warehouse.duckdb"
    target.parent.mkdir()
    publish.publish(build(tmp_path / "build" / "b.duckdb", 2), target)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_statistics").fetchone() == (2,)


@pytest.mark.parametrize("folder", ["marts", "analyst's marts; drop table x"])
def test_export_marts_writes_parquet(tmp_path: Path, folder: str) -> None:
    warehouse = build(tmp_path / "w.duckdb", 4)
    [path] = publish.export_marts(warehouse, tmp_path / folder)
    assert path.name == "fct_statistics.parquet"
    assert duckdb.read_parquet(str(path)).aggregate("count(*)").fetchall() == [(4,)]


def test_export_apart_writes_both_copies_from_a_process_of_its_own(tmp_path: Path) -> None:
    warehouse = build(tmp_path / "w.duckdb", 6)
    lake = Lake(str(tmp_path / "lake"))
    versions = publish.export_apart(warehouse, tmp_path / "marts", lake)
    assert versions == {"fct_statistics": 0}
    again = publish.export_apart(warehouse, tmp_path / "marts", lake)  # replaces, one commit
    assert again == {"fct_statistics": 1}
    in_lake = DeltaTable(lake.mart_uri("fct_statistics")).to_pyarrow_table()
    assert sorted(in_lake.column("value").to_pylist()) == list(range(6))
    parquet = duckdb.read_parquet(str(tmp_path / "marts" / "fct_statistics.parquet"))
    assert parquet.aggregate("count(*)").fetchall() == [(6,)]


def test_a_retried_publish_finishes_a_move_left_halfway(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    built = build(tmp_path / "build" / "b.duckdb", 7)
    target = tmp_path / "warehouse.duckdb"
    publish.publish(build(tmp_path / "build" / "old.duckdb", 1), target)
    built.rename(publish.incoming_path(target))  # the first try stopped after its first move
    publish.publish(built, target)  # the task's retry
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_statistics").fetchone() == (7,)
    assert not publish.incoming_path(target).exists()
