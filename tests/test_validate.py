"""Tests of the validation layer: suite files, severities, and counts added over chunks."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tracelake import schemas, validate
from tracelake.validate import (
    LAYERS,
    Failure,
    LayerResult,
    load_layer_suites,
    validate_frames,
    validate_parquet_layer,
    validate_warehouse,
)

EXPECTATIONS = Path(__file__).resolve().parent.parent / "expectations"
DOC = "a" * 64
OTHER_DOC = "b" * 64


def statistics(n: int = 3, **overrides: list[object]) -> pd.DataFrame:
    """A valid staged statistics frame of n rows; keyword arguments replace columns."""
    data: dict[str, list[object]] = {
        "statistic_id": [f"{i:016x}" for i in range(n)],
        "article_id": ["0123456789abcdef"] * n,
        "doc_id": [DOC] * n,
        "metric": ["arrested"] * n,
        "value": [float(i + 1) for i in range(n)],
        "qualifier": ["exact"] * n,
        "unit": [None] * n,
        "currency": [None] * n,
        "subject": ["people"] * n,
        "evidence": ["Police arrested people."] * n,
        "char_start": [10 * i for i in range(n)],
        "char_end": [10 * i + 2 for i in range(n)],
        "extractor_version": ["1"] * n,
    }
    data.update(overrides)
    return pd.DataFrame(data)


def articles(n: int = 2, **overrides: list[object]) -> pd.DataFrame:
    """A valid staged articles frame of n rows."""
    data: dict[str, list[object]] = {
        "article_id": [f"{i:016x}" for i in range(n)],
        "doc_id": [DOC] * n,
        "article_index": list(range(n)),
        "title": [f"Title {i}" for i in range(n)],
        "char_start": [100 * i for i in range(n)],
        "char_end": [100 * i + 50 for i in range(n)],
        "language": ["en"] * n,
        "is_relevant": [True] * n,
        "duplicate_of": [None] * n,
    }
    data.update(overrides)
    return pd.DataFrame(data)


def only(result: LayerResult) -> Failure:
    assert len(result.failures) == 1, result.to_dict()
    return result.failures[0]


# --- suite files -----------------------------------------------------------------------------


def test_one_suite_file_per_layer() -> None:
    assert sorted(p.stem for p in EXPECTATIONS.glob("*.json")) == sorted(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_suite_file_loads_with_explicit_severities(layer: str) -> None:
    raw = json.loads((EXPECTATIONS / f"{layer}.json").read_text())
    suites = load_layer_suites(EXPECTATIONS, layer)
    assert set(suites) == set(raw["tables"])
    for table, suite in suites.items():
        written = raw["tables"][table]["expectations"]
        assert len(suite.expectations) == len(written) > 0
        assert {e["severity"] for e in written} <= {"critical", "warning"}


def test_marts_suites_cover_the_mart_tables() -> None:
    suites = load_layer_suites(EXPECTATIONS, "marts")
    assert set(suites) == {
        "dim_articles",
        "fct_statistics",
        "bridge_article_entities",
        "fct_incidents",
        "dim_documents",
        "fct_prices",
        "dim_countries",
        "agg_country_year",
        "agg_agency_year",
        "agg_monthly_crime_type_metrics",
        "fct_incident_figures",
        "bridge_incident_articles",
    }


@pytest.mark.parametrize(
    ("layer", "table", "column", "vocabulary"),
    [
        ("raw_documents", "documents", "content_type", schemas.CONTENT_TYPES),
        ("staged_statistics", "statistics", "metric", schemas.METRICS),
        ("staged_statistics", "statistics", "qualifier", schemas.QUALIFIERS),
        ("staged_entities", "entities", "entity_type", schemas.ENTITY_TYPES),
        ("marts", "fct_statistics", "metric", schemas.METRICS),
        ("marts", "fct_statistics", "qualifier", schemas.QUALIFIERS),
        ("marts", "bridge_article_entities", "entity_type", schemas.ENTITY_TYPES),
        ("marts", "dim_documents", "content_type", schemas.CONTENT_TYPES),
    ],
)
def test_value_sets_match_the_schema_vocabularies(
    layer: str, table: str, column: str, vocabulary: tuple[str, ...]
) -> None:
    suite = load_layer_suites(EXPECTATIONS, layer)[table]
    sets = [
        e.configuration.kwargs["value_set"]
        for e in suite.expectations
        if e.expectation_type == "expect_column_values_to_be_in_set"
        and e.configuration.kwargs["column"] == column
    ]
    assert sets and all(set(s) == set(vocabulary) for s in sets)


def write_suite(folder: Path, expectations: list[dict[str, object]]) -> Path:
    suite = {"name": "t.t", "expectations": expectations}
    (folder / "t.json").write_text(json.dumps({"layer": "t", "tables": {"t": suite}}))
    return folder


def test_an_expectation_without_severity_is_refused(tmp_path: Path) -> None:
    write_suite(
        tmp_path, [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}}]
    )
    with pytest.raises(ValueError, match="severity"):
        load_layer_suites(tmp_path, "t")


def test_a_misspelt_expectation_is_refused_not_dropped(tmp_path: Path) -> None:
    bad = {"type": "expect_column_values_to_not_be_nul", "kwargs": {"column": "a"}}
    write_suite(tmp_path, [{**bad, "severity": "critical"}])
    with pytest.raises(ValueError, match="expect_column_values_to_not_be_nul"):
        load_layer_suites(tmp_path, "t")


def test_an_expectation_that_cannot_be_chunked_is_refused(tmp_path: Path) -> None:
    mean = {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "a", "min_value": 0}}
    write_suite(tmp_path, [{**mean, "severity": "warning"}])
    with pytest.raises(ValueError, match="chunk"):
        load_layer_suites(tmp_path, "t")


# --- validating frames ----------------------------------------------------------------------


def test_a_good_frame_passes() -> None:
    result = validate_frames("staged_statistics", {"statistics": [statistics()]}, EXPECTATIONS)
    assert result.success
    assert result.failures == []
    assert result.rows == {"statistics": 3}
    suite = load_layer_suites(EXPECTATIONS, "staged_statistics")["statistics"]
    assert result.expectations_evaluated == len(suite.expectations)


def test_a_duplicate_key_fails_critically_with_its_count() -> None:
    frame = statistics(statistic_id=["0000000000000001"] * 2 + ["0000000000000002"])
    result = validate_frames("staged_statistics", {"statistics": [frame]}, EXPECTATIONS)
    failure = only(result)
    assert not result.success
    assert (failure.expectation_type, failure.column) == (
        "expect_column_values_to_be_unique",
        "statistic_id",
    )
    assert failure.severity == "critical"
    assert (failure.unexpected_count, failure.element_count) == (2, 3)
    assert failure.examples == ["'0000000000000001'"] * 2
    assert result.to_dict()["failures"][0]["unexpected_count"] == 2


def test_a_warning_only_failure_leaves_success_true() -> None:
    frame = articles(language=["en", "english"])
    result = validate_frames("staged_articles", {"articles": [frame]}, EXPECTATIONS)
    failure = only(result)
    assert result.success
    assert (failure.column, failure.severity, failure.unexpected_count) == (
        "language",
        "warning",
        1,
    )
    assert result.to_dict()["critical_failures"] == 0


def test_a_null_language_is_allowed() -> None:
    frame = articles(language=["en", None])
    assert validate_frames("staged_articles", {"articles": [frame]}, EXPECTATIONS).failures == []


def test_an_end_before_its_start_fails() -> None:
    frame = articles(char_start=[0, 90], char_end=[50, 80])
    failure = only(validate_frames("staged_articles", {"articles": [frame]}, EXPECTATIONS))
    assert failure.expectation_type == "expect_column_pair_values_a_to_be_greater_than_b"
    assert (failure.column, failure.unexpected_count) == ("char_end,char_start", 1)


def test_chunked_validation_adds_counts_up() -> None:
    first = statistics(3, metric=["arrested", "bribes", "rescued"])
    second = statistics(2, metric=["bribes", "bribes"], statistic_id=["a" * 16, "b" * 16])
    result = validate_frames("staged_statistics", {"statistics": [first, second]}, EXPECTATIONS)
    failure = only(result)
    assert (failure.column, failure.unexpected_count, failure.element_count) == ("metric", 3, 5)
    assert result.rows == {"statistics": 5}
    assert not result.success


def test_money_without_currency_is_a_warning_on_money_rows_only() -> None:
    frame = statistics(
        3, metric=["price", "amount", "arrested"], currency=["EUR", None, None], unit=[None] * 3
    )
    result = validate_frames("staged_statistics", {"statistics": [frame]}, EXPECTATIONS)
    failure = only(result)
    assert result.success
    assert failure.expectation_type == "expect_column_values_to_not_be_null"
    assert (failure.column, failure.severity) == ("currency", "warning")
    assert (failure.unexpected_count, failure.element_count) == (1, 2)
    assert failure.kwargs["row_condition"]["column"] == {"name": "metric"}
    assert json.loads(json.dumps(result.to_dict()))["failures"][0]["severity"] == "warning"


def test_a_lower_case_currency_fails() -> None:
    frame = statistics(1, metric=["price"], currency=["eur"])
    failure = only(validate_frames("staged_statistics", {"statistics": [frame]}, EXPECTATIONS))
    assert (failure.column, failure.severity, failure.unexpected_count) == (
        "currency",
        "critical",
        1,
    )


def test_a_missing_column_is_a_failure_with_gx_message() -> None:
    frame = statistics().drop(columns=["evidence"])
    result = validate_frames("staged_statistics", {"statistics": [frame]}, EXPECTATIONS)
    failure = only(result)
    assert failure.column == "evidence" and failure.unexpected_count is None
    assert failure.error and "evidence" in failure.error
    assert not result.success


def test_frames_must_cover_the_layer_tables() -> None:
    with pytest.raises(ValueError, match="statistics"):
        validate_frames("staged_statistics", {"stats": [statistics()]}, EXPECTATIONS)


# --- Parquet and the warehouse --------------------------------------------------------------


def as_given(folder: Path, kind: str) -> Path | ds.Dataset:
    """A folder of Parquet files as a layer's table is given: the folder, or (as the lake's
    Delta tables are) an Arrow dataset of its files."""
    return folder if kind == "folder" else ds.dataset(folder, format="parquet")


@pytest.mark.parametrize("kind", ["folder", "dataset"])
def test_parquet_layer_in_chunks_finds_duplicates_across_files(tmp_path: Path, kind: str) -> None:
    frame = statistics(9)
    frame.loc[8, "statistic_id"] = frame.loc[0, "statistic_id"]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.slice(0, 4), tmp_path / "part-1.parquet")
    pq.write_table(table.slice(4), tmp_path / "part-2.parquet")
    result = validate_parquet_layer(
        "staged_statistics", {"statistics": as_given(tmp_path, kind)}, EXPECTATIONS, chunk_rows=2
    )
    failure = only(result)
    assert (failure.column, failure.unexpected_count, failure.element_count) == (
        "statistic_id",
        2,
        9,
    )
    assert result.rows == {"statistics": 9}


@pytest.mark.parametrize("kind", ["folder", "dataset"])
def test_parquet_layer_cut_by_bytes_still_finds_duplicates(tmp_path: Path, kind: str) -> None:
    rows = 2 * validate.READ_BATCH_ROWS + 5  # read in three batches
    frame = statistics(rows)
    frame.loc[rows - 1, "statistic_id"] = frame.loc[0, "statistic_id"]
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "p.parquet")
    # fewer rows than a chunk may hold, more bytes: cut by the key, never by reading order
    result = validate_parquet_layer(
        "staged_statistics", {"statistics": as_given(tmp_path, kind)}, EXPECTATIONS,
        chunk_bytes=100_000,
    )  # fmt: skip
    failure = only(result)
    assert (failure.column, failure.unexpected_count) == ("statistic_id", 2)
    assert result.rows == {"statistics": rows}


def test_paths_and_names_with_quotes_never_break_the_sql(tmp_path: Path) -> None:
    folder = tmp_path / 'o\'brien "lake"; drop table x; --'
    folder.mkdir()
    pq.write_table(pa.Table.from_pandas(statistics(3), preserve_index=False), folder / "p.parquet")
    result = validate_parquet_layer("staged_statistics", {"statistics": folder}, EXPECTATIONS)
    assert result.success and result.rows == {"statistics": 3}


def test_parquet_layer_with_no_files_has_nothing_to_fail(tmp_path: Path) -> None:
    result = validate_parquet_layer("staged_statistics", {"statistics": tmp_path}, EXPECTATIONS)
    assert result.success and result.rows == {"statistics": 0}


def old_and_new_rows(tmp_path: Path, old: pd.DataFrame, new: pd.DataFrame) -> dict:
    """A table of two files, as validate_parquet_layer takes it: every row, and the rows of
    the second file (added since an earlier validation)."""
    for name, frame in (("old", old), ("new", new)):
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"{name}.p")
    every = ds.dataset([str(tmp_path / "old.p"), str(tmp_path / "new.p")], format="parquet")
    added = ds.dataset(str(tmp_path / "new.p"), format="parquet")
    return {"tables": {"statistics": every}, "new_rows": {"statistics": added}}


def test_after_a_clean_validation_only_new_rows_are_checked_row_by_row(tmp_path: Path) -> None:
    # an old row with no evidence: the earlier validation is taken at its word
    old = statistics(4, evidence=[None, "a", "b", "c"])
    new = statistics(3, evidence=["d", None, "e"])
    new["statistic_id"] = ["f" * 16, "e" * 16, old.loc[0, "statistic_id"]]  # one key again
    result = validate_parquet_layer(
        "staged_statistics", **old_and_new_rows(tmp_path, old, new),
        expectations_dir=EXPECTATIONS, checked_by="run-1",
    )  # fmt: skip
    found = {f.column: (f.unexpected_count, f.element_count) for f in result.failures}
    # the new row without evidence, of all seven; the key shared with an old row, both rows
    assert found == {"evidence": (1, 7), "statistic_id": (2, 7)}
    assert result.new_rows_only == {"statistics": {"rows": 3, "checked_by": "run-1"}}
    assert result.rows == {"statistics": 7}


def test_an_expectation_with_mostly_checks_every_row_again(tmp_path: Path) -> None:
    suite = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "evidence",
             "mostly": 0.5}, "severity": "warning"}  # fmt: skip
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "t.json").write_text(
        json.dumps({"layer": "t", "tables": {"statistics": {"name": "t.statistics",
                                                            "expectations": [suite]}}})
    )  # fmt: skip
    old = statistics(3, evidence=[None, None, "a"])
    new = statistics(1, evidence=[None])
    new["statistic_id"] = ["f" * 16]
    result = validate_parquet_layer(
        "t", **old_and_new_rows(tmp_path, old, new), expectations_dir=tmp_path / "suites",
        checked_by="run-1",
    )  # fmt: skip
    # three of four rows without evidence: more than the half allowed, counted over all rows
    assert [(f.unexpected_count, f.element_count) for f in result.failures] == [(3, 4)]
    assert result.new_rows_only == {}


def test_the_clean_lake_tables_are_those_whose_layers_found_nothing() -> None:
    results = {
        "raw_documents": {"success": True, "failures": []},
        "staged_articles": {"success": True, "failures": [{"severity": "warning"}]},
        "staged_statistics": {"success": False, "failures": [{"severity": "critical"}]},
        "staged_entities": {"success": True, "failures": []},
    }
    versions = {"raw_documents": 4, "articles": 5, "statistics": 6, "entities": None}
    assert validate.clean_lake_tables(results, versions) == {"raw_documents": 4}


MARTS_DDL = """
create schema marts;
create table marts.dim_documents (doc_id varchar, source_file varchar, content_type varchar,
    encoding varchar, size_bytes bigint, landed_at timestamptz, ingest_date date,
    article_count bigint);
create table marts.dim_articles (article_id varchar, doc_id varchar, source_file varchar,
    article_index integer, title varchar, published_date date, language varchar,
    is_relevant boolean, relevance_reason varchar, crime_types varchar[],
    duplicate_of_article_id varchar, is_duplicate boolean, char_start bigint, char_end bigint,
    statistic_count hugeint);
create table marts.fct_statistics as select * from read_parquet(?);
create table marts.bridge_article_entities (article_id varchar, entity_type varchar,
    entity_id varchar, mention_count bigint, first_char_start bigint);
create table marts.fct_incidents (incident_id varchar, title varchar,
    first_reported_date date, article_count bigint, agencies varchar[], countries varchar[],
    operations varchar[], crime_types varchar[], arrested double, charged double,
    statistic_count bigint);
create table marts.fct_incident_figures (incident_id varchar, metric varchar, value double,
    agreeing_articles bigint, reporting_articles bigint);
create table marts.bridge_incident_articles (incident_id varchar, article_id varchar,
    similarity double, date_gap_days integer);
create table marts.fct_prices (statistic_id varchar, article_id varchar, metric varchar,
    value double, currency varchar, reported_year integer, rate_year integer,
    value_eur double, value_usd double);
create table marts.dim_countries as select chr((65 + i // 26)::int) || chr((65 + i % 26)::int)
    as country_id, chr((65 + i // 26)::int) || chr((65 + i % 26)::int) || 'X' as alpha_3,
    'Country' as name, 0::bigint as article_count, 0::bigint as incident_count
    from range(200) as codes (i);
create table marts.agg_country_year (country_id varchar, reported_year integer,
    article_count bigint, incident_count bigint, arrested double, rescued double);
create table marts.agg_agency_year (agency_id varchar, reported_year integer,
    article_count bigint, incident_count bigint, arrested double, rescued double);
create table marts.agg_monthly_crime_type_metrics (reported_month date, crime_type_id varchar,
    metric varchar, figure_count bigint, article_count bigint, total_value_eur double);
"""


def build_warehouse(tmp_path: Path, with_documents: bool) -> Path:
    stats = tmp_path / "stats.parquet"
    pq.write_table(pa.Table.from_pandas(statistics(), preserve_index=False), stats)
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for statement in MARTS_DDL.split(";"):
            if statement.strip():
                con.execute(statement, [str(stats)] if "?" in statement else None)
        if with_documents:
            con.execute(
                "insert into marts.dim_documents values"
                " (?, 'a.txt', 'text', 'utf-8', 10, now(), current_date, 1),"
                " (?, 'b.html', 'html', 'utf-8', 20, now(), current_date, 0)",
                [DOC, OTHER_DOC],
            )
        con.execute(
            "insert into marts.dim_articles values (?, ?, 'a.txt', 0, 'T', null, 'en', true,"
            " 'keywords', ['fraud'], null, false, 0, 9, 3)",
            ["0123456789abcdef", DOC],
        )
        con.execute(
            "insert into marts.bridge_article_entities values"
            " ('0123456789abcdef', 'country', 'GB', 2, 5),"
            " ('0123456789abcdef', 'agency', 'Europol', 1, 7),"
            " ('0123456789abcdef', 'country', 'GB', 1, 9),"
            " ('0123456789abcdef', 'country', 'Britain', 1, 9)"
        )
    return path


def test_warehouse_passes_and_finds_a_compound_duplicate(tmp_path: Path) -> None:
    result = validate_warehouse(build_warehouse(tmp_path, True), EXPECTATIONS, chunk_rows=2)
    found = {(f.table, f.expectation_type, f.severity, f.unexpected_count) for f in result.failures}
    assert found == {
        ("bridge_article_entities", "expect_compound_columns_to_be_unique", "critical", 2),
        ("bridge_article_entities", "expect_column_values_to_match_regex", "warning", 1),
    }
    assert result.rows["dim_documents"] == 2 and result.rows["bridge_article_entities"] == 4


def test_an_empty_dim_documents_fails_the_row_count(tmp_path: Path) -> None:
    result = validate_warehouse(build_warehouse(tmp_path, False), EXPECTATIONS)
    counts = [f for f in result.failures if f.table == "dim_documents"]
    assert [(f.expectation_type, f.severity, f.observed_value) for f in counts] == [
        ("expect_table_row_count_to_be_between", "critical", 0)
    ]
    assert not result.success


def test_a_missing_mart_table_fails_critically(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path, True)
    with duckdb.connect(str(path)) as con:
        con.execute("drop table marts.fct_incidents")
    result = validate_warehouse(path, EXPECTATIONS)
    missing = [f for f in result.failures if f.table == "fct_incidents"]
    assert missing and all(f.error for f in missing)
    assert not result.success


def test_the_validation_page_shows_every_expectation_and_each_failure(tmp_path: Path) -> None:
    from tracelake.validate import write_validation_site

    frame = statistics(statistic_id=["0000000000000001"] * 2 + ["0000000000000002"])
    failed = validate_frames("staged_statistics", {"statistics": [frame]}, EXPECTATIONS)
    passed = validate_frames("staged_articles", {"articles": [articles()]}, EXPECTATIONS)
    results = {"staged_statistics": failed.to_dict(), "staged_articles": passed.to_dict(),
               "dbt": {"success": True, "failures": []}}  # fmt: skip
    page = write_validation_site(results, EXPECTATIONS, tmp_path / "gx", "run r1").read_text()
    assert "<h2>staged_statistics: FAILED</h2>" in page
    assert "<h2>staged_articles: passed</h2>" in page
    assert "failed: 2 of 3 rows (e.g. &#x27;0000000000000001&#x27;" in page
    rows = page.count("<tr class=")
    suites = [load_layer_suites(EXPECTATIONS, layer) for layer in ("staged_statistics",
                                                                   "staged_articles")]  # fmt: skip
    assert rows == sum(len(s.expectations) for suite in suites for s in suite.values())
    assert page.count("<tr class=fail>") == 1


def test_the_rules_select_only_metrics_of_the_registry() -> None:
    """Every metric a verb or a noun class selects is a row of dbt/seeds/metrics.csv."""
    from tracelake import vocab

    verb_metrics = set(vocab.forms("verb_classes", "metric"))
    assert verb_metrics <= set(schemas.METRICS)
    decisions = vocab.rows("metric_decisions")
    assert {row["metric"] for row in decisions} - {""} <= set(schemas.METRICS)
    assert {row["verb"] for row in decisions} - {"*"} <= verb_metrics
    noun_classes = set(vocab.forms("noun_classes", "class"))
    assert {row["noun_class"] for row in decisions} - {"-"} <= noun_classes


def test_gx_makes_no_fingerprint_of_the_chunks() -> None:
    from great_expectations.execution_engine import pandas_execution_engine

    # the setting validate.py turns down: a GX release without it would hash every chunk
    assert pandas_execution_engine.HASH_THRESHOLD == 0
    result = validate_frames("staged_statistics", {"statistics": [statistics(3)]}, EXPECTATIONS)
    assert result.success
