"""Validate: Great Expectations suites over the lake's Parquet and the warehouse's marts.

Suite files: `expectations/<layer>.json`, one per layer (raw_documents, staged_articles,
staged_statistics, staged_entities, marts). Each holds one GX 1.x ExpectationSuite per table:

    {"layer": "staged_statistics",
     "tables": {"statistics": {"name": "staged_statistics.statistics",
                               "expectations": [{"type": "expect_column_values_to_be_unique",
                                                 "kwargs": {"column": "statistic_id"},
                                                 "severity": "critical"}]}}}

A table's value is loaded as it is with `gx.ExpectationSuite(**value)`; suites are never built
in code. `severity` is GX's own expectation field (not `meta`), stated on every expectation:
`critical` fails the run before publishing, `warning` (or `info`) is reported. A conditional
expectation takes a GX Condition as JSON in `kwargs.row_condition`, e.g. `{"type": "comparison",
"column": {"name": "metric"}, "operator": "IN", "parameter": ["price", "amount"]}` (GX 1.9+
deprecates pandas query strings with `condition_parser`).

GX runs on pandas batches only (its SQL datasource is broken on DuckDB), a chunk at a time,
and the counts of the chunks are added up. That is exact for three kinds of expectation, the
only kinds a suite may hold:
- row-wise ones (GX map expectations: not null, in set, regex, between, column pairs): any
  split of the rows adds up;
- uniqueness (`expect_column_values_to_be_unique`, `expect_compound_columns_to_be_unique`):
  rows that share a key must share a chunk. The Parquet and warehouse readers check them in a
  pass of their own over the key columns, split by a hash of the key; callers of
  `validate_frames` must split their frames so;
- row counts (`expect_table_row_count_*`): checked once, on the total.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from duckdb import ColumnExpression, ConstantExpression, FunctionExpression
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    Expectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from tracelake import lakeio
from tracelake.config import Settings, folder_digest

LAYERS = ("raw_documents", "staged_articles", "staged_statistics", "staged_entities", "marts")
UNIQUENESS = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
ROW_COUNT = frozenset({"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"})
MAP_EXPECTATIONS = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# A chunk handed to GX as a pandas frame holds at most this many rows and bytes of text
# (pandas keeps each string as an object, several times its bytes; GX's metrics make
# several more copies). Validating the 100k bench lake alone peaked at 925 MiB with
# 200,000 rows and 64 MiB, 770 with these, 761 and 729 with half as many rows or bytes
# again, for 1 to 2 s more.
DEFAULT_CHUNK_ROWS = 100_000
DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024
READ_BATCH_ROWS = 10_000

# GX fingerprints each pandas batch under this many bytes by hashing all its values, for the
# result's metadata alone: 40 % of the time of validating the marts. Each chunk here is a
# batch of its own and no fingerprint is read, so none is made (tests/test_validate.py
# checks that GX still has the setting).
pandas_execution_engine.HASH_THRESHOLD = 0
MAX_EXAMPLES = 5
EXAMPLE_CHARS = 80


@dataclass(frozen=True)
class Failure:
    """One expectation that failed on a table, and on how many rows."""

    table: str
    expectation_type: str
    column: str | None  # "a,b" for column pairs and compound keys; None for table-level
    severity: str
    unexpected_count: int | None  # None when GX raised or the expectation is table-level
    element_count: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    observed_value: Any = None  # table-level expectations (row counts)
    examples: list[str] = field(default_factory=list)  # a few unexpected values
    error: str | None = None  # GX's message when computing the expectation raised

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run report."""
        return asdict(self)


@dataclass(frozen=True)
class LayerResult:
    """The outcome of one layer's suites: success unless a critical expectation failed."""

    layer: str
    success: bool
    failures: list[Failure]
    expectations_evaluated: int
    rows: dict[str, int]  # rows validated per table
    seconds: float
    # per table checked row by row on its new rows only: how many, and the run that
    # validated the others (validate_lake)
    new_rows_only: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run report."""
        return {
            "layer": self.layer,
            "success": self.success,
            "expectations_evaluated": self.expectations_evaluated,
            "critical_failures": len(self.critical_failures),
            "other_failures": len(self.failures) - len(self.critical_failures),
            "rows": dict(self.rows),
            "new_rows_only": dict(self.new_rows_only),
            "seconds": round(self.seconds, 3),
            "failures": [f.to_dict() for f in self.failures],
        }


# --- suites ------------------------------------------------------------------------------


def load_layer_suites(expectations_dir: Path, layer: str) -> dict[str, gx.ExpectationSuite]:
    """The suites of one layer's file, by table; raises ValueError on a malformed file."""
    path = Path(expectations_dir) / f"{layer}.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    if spec.get("layer") != layer:
        raise ValueError(f"{path}: 'layer' is {spec.get('layer')!r}, expected {layer!r}")
    tables = spec.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise ValueError(f"{path}: 'tables' must map table names to suites")
    suites: dict[str, gx.ExpectationSuite] = {}
    for table, suite_spec in tables.items():
        where = f"{path}: table {table!r}"
        for index, raw in enumerate(suite_spec.get("expectations", [])):
            if "severity" not in raw:
                raise ValueError(f"{where}: expectation {index} states no severity")
            try:  # GX's suite constructor logs and drops a bad expectation; fail instead
                ExpectationConfiguration(**raw).to_domain_obj()
            except Exception as err:
                raise ValueError(
                    f"{where}: expectation {index} ({raw.get('type')}): {err}"
                ) from err
        suite = gx.ExpectationSuite(**suite_spec)
        for expectation in suite.expectations:
            _check_chunkable(expectation, where)
        suites[table] = suite
    return suites


def _check_chunkable(expectation: Expectation, where: str) -> None:
    """Refuse an expectation whose result cannot be added up over chunks."""
    kind = expectation.expectation_type
    if kind in ROW_COUNT:
        if expectation.configuration.kwargs.get("row_condition"):
            raise ValueError(f"{where}: {kind} cannot take a row_condition")
    elif not isinstance(expectation, MAP_EXPECTATIONS):
        raise ValueError(f"{where}: {kind} cannot be evaluated chunk by chunk")


def _kwargs(expectation: Expectation) -> dict[str, Any]:
    """An expectation's arguments, JSON-ready."""
    kwargs: dict[str, Any] = expectation.configuration.to_json_dict()["kwargs"]
    kwargs.pop("batch_id", None)
    return kwargs


def _columns_of(expectation: Expectation) -> list[str]:
    """Columns an expectation reads: its domain, then any named in its row condition."""
    kwargs = _kwargs(expectation)
    if "column" in kwargs:
        columns = [kwargs["column"]]
    elif "column_A" in kwargs:
        columns = [kwargs["column_A"], kwargs["column_B"]]
    else:
        columns = list(kwargs.get("column_list", []))
    return list(dict.fromkeys(columns + _condition_columns(kwargs.get("row_condition"))))


def _condition_columns(condition: Any) -> list[str]:
    """Columns a row condition names: GX Condition objects (as dicts) or a pandas string."""
    if isinstance(condition, str):  # may name non-columns; the readers keep known ones
        return IDENTIFIER.findall(condition)
    if hasattr(condition, "dict"):
        condition = condition.dict()
    if isinstance(condition, dict):
        column = condition.get("column")
        found = [column["name"]] if isinstance(column, dict) and "name" in column else []
        for part in condition.get("conditions") or []:  # and / or
            found += _condition_columns(part)
        return found
    return []


def _domain_columns(expectation: Expectation) -> list[str]:
    kwargs = _kwargs(expectation)
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))


# --- one table's plan --------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A table's suite split into the passes that make chunked counts exact."""

    table: str
    expectations: list[Expectation]  # as loaded; a sub-suite expectation's id is its index
    row_wise: gx.ExpectationSuite | None
    by_key: list[tuple[list[str], gx.ExpectationSuite]]  # uniqueness, per key column set
    all_chunked: gx.ExpectationSuite | None  # row-wise and uniqueness together
    row_count: gx.ExpectationSuite | None

    def columns(self, suite: gx.ExpectationSuite) -> list[str]:
        """Columns the expectations of a sub-suite read."""
        found: list[str] = []
        for expectation in suite.expectations:
            found += _columns_of(self.expectations[int(expectation.id or 0)])
        return list(dict.fromkeys(found))


def _plan(table: str, suite: gx.ExpectationSuite) -> _Plan:
    expectations = list(suite.expectations)

    def sub_suite(name: str, indexes: list[int]) -> gx.ExpectationSuite | None:
        if not indexes:
            return None
        configs = [{**expectations[i].configuration.to_json_dict(), "id": str(i)} for i in indexes]
        return gx.ExpectationSuite(name=f"{suite.name}.{name}", expectations=configs)

    row_wise, counts, all_chunked = [], [], []
    keys: dict[tuple[str, ...], list[int]] = {}
    for index, expectation in enumerate(expectations):
        kind = expectation.expectation_type
        if kind in ROW_COUNT:
            counts.append(index)
            continue
        all_chunked.append(index)
        if kind in UNIQUENESS:
            keys.setdefault(tuple(_domain_columns(expectation)), []).append(index)
        else:
            row_wise.append(index)
    by_key = [
        (list(key), sub_suite("key_" + "_".join(key), indexes)) for key, indexes in keys.items()
    ]
    return _Plan(
        table=table,
        expectations=expectations,
        row_wise=sub_suite("rows", row_wise),
        by_key=[(key, s) for key, s in by_key if s is not None],
        all_chunked=sub_suite("chunked", all_chunked),
        row_count=sub_suite("row_count", counts),
    )


# --- GX --------------------------------------------------------------------------------


def _context() -> Any:
    """A quiet ephemeral GX context: no analytics, no progress bars, no Data Docs."""
    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


class _Runner:
    """One ephemeral context per validation call, one dataframe asset per table."""

    def __init__(self) -> None:
        self._source = _context().data_sources.add_pandas("tracelake")
        self._batches: dict[str, BatchDefinition] = {}

    def validate(self, table: str, frame: pd.DataFrame, suite: gx.ExpectationSuite) -> Any:
        """GX's validation result of one suite on one pandas frame."""
        if table not in self._batches:
            asset = self._source.add_dataframe_asset(table)
            self._batches[table] = asset.add_batch_definition_whole_dataframe("whole")
        batch = self._batches[table].get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format="BASIC")


@dataclass
class _Tally:
    """One expectation's counts, added up over chunks."""

    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    examples: list[str] = field(default_factory=list)
    error: str | None = None
    observed_value: Any = None
    success: bool = True

    def add(self, result: Any) -> None:
        """Fold one chunk's ExpectationValidationResult in."""
        error = _raised(result.exception_info or {})
        if error is not None:
            self.error = self.error or error
            self.success = False
            return
        body = result.result or {}
        self.element_count += int(body.get("element_count") or 0)
        self.missing_count += int(body.get("missing_count") or 0)
        self.unexpected_count += int(body.get("unexpected_count") or 0)
        self.observed_value = body.get("observed_value", self.observed_value)
        for value in body.get("partial_unexpected_list") or []:
            if len(self.examples) < MAX_EXAMPLES:
                self.examples.append(_example(value))
        if "unexpected_count" not in body:  # table-level: GX's verdict on the total
            self.success = self.success and bool(result.success)

    def passed(self, mostly: float) -> bool:
        """Success of the added-up counts, with `mostly` as GX applies it."""
        if self.error is not None or not self.success:
            return False
        checked = self.element_count - self.missing_count
        if self.unexpected_count == 0 or checked <= 0:
            return True
        return (checked - self.unexpected_count) / checked >= mostly


def _raised(info: dict[str, Any]) -> str | None:
    """GX's exception message, flat or keyed by metric, or None when nothing raised."""
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "GX raised an exception")
    return None


def _example(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."


def _run_chunks(
    runner: _Runner,
    plan: _Plan,
    suite: gx.ExpectationSuite,
    chunks: Iterable[pd.DataFrame],
    tallies: dict[int, _Tally],
) -> int:
    """Validate a sub-suite chunk by chunk into the tallies; the number of rows seen."""
    rows = 0
    for chunk in chunks:
        rows += len(chunk)
        result = runner.validate(plan.table, chunk, suite)
        for item in result.results:
            tallies.setdefault(int(item.expectation_config.id), _Tally()).add(item)
    return rows


def _finish(plan: _Plan, tallies: dict[int, _Tally], rows: int) -> list[Failure]:
    """Failures of one table, in the order of its suite."""
    failures = []
    for index, expectation in enumerate(plan.expectations):
        tally = tallies.get(index, _Tally())
        kwargs = _kwargs(expectation)
        if tally.passed(float(kwargs.get("mostly", 1.0))):
            continue
        table_level = expectation.expectation_type in ROW_COUNT
        columns = _domain_columns(expectation)
        failures.append(
            Failure(
                table=plan.table,
                expectation_type=expectation.expectation_type,
                column=",".join(columns) or None,
                severity=str(getattr(expectation.severity, "value", expectation.severity)),
                unexpected_count=None
                if table_level or tally.error is not None
                else tally.unexpected_count,
                element_count=rows if table_level else tally.element_count,
                kwargs=kwargs,
                observed_value=tally.observed_value,
                examples=tally.examples,
                error=tally.error,
            )
        )
    return failures


def _row_count(runner: _Runner, plan: _Plan, rows: int, tallies: dict[int, _Tally]) -> None:
    """Evaluate row-count expectations once, on a column-less frame of the total height."""
    if plan.row_count is not None:
        frame = pd.DataFrame(index=pd.RangeIndex(rows))
        _run_chunks(runner, plan, plan.row_count, [frame], tallies)


def _result(
    layer: str,
    per_table: list[tuple[_Plan, list[Failure], int]],
    t0: float,
    new_rows_only: dict[str, dict[str, Any]] | None = None,
) -> LayerResult:
    failures = [f for _, table_failures, _ in per_table for f in table_failures]
    return LayerResult(
        layer=layer,
        success=not any(f.severity == "critical" for f in failures),
        failures=failures,
        expectations_evaluated=sum(len(plan.expectations) for plan, _, _ in per_table),
        rows={plan.table: rows for plan, _, rows in per_table},
        seconds=time.perf_counter() - t0,
        new_rows_only=new_rows_only or {},
    )


def _check_tables(layer: str, suites: Mapping[str, Any], given: Iterable[str]) -> None:
    given = set(given)
    if given != set(suites):
        raise ValueError(
            f"layer {layer}: suites cover {sorted(suites)}, data given for {sorted(given)}"
        )


# --- entry points ------------------------------------------------------------------------


def validate_frames(
    layer: str,
    frames: Mapping[str, Iterable[pd.DataFrame]],
    expectations_dir: Path,
) -> LayerResult:
    """Validate each table's pandas chunks against its suite; counts are added over chunks.

    Rows that share a key of a uniqueness expectation must be in the same chunk.
    """
    t0 = time.perf_counter()
    suites = load_layer_suites(expectations_dir, layer)
    _check_tables(layer, suites, frames)
    runner = _Runner()
    per_table = []
    for table, suite in suites.items():
        plan = _plan(table, suite)
        tallies: dict[int, _Tally] = {}
        if plan.all_chunked is not None:
            rows = _run_chunks(runner, plan, plan.all_chunked, frames[table], tallies)
        else:
            rows = sum(len(chunk) for chunk in frames[table])
        _row_count(runner, plan, rows, tallies)
        per_table.append((plan, _finish(plan, tallies, rows), rows))
    return _result(layer, per_table, t0)


def _validate_sources(
    layer: str,
    suites: Mapping[str, gx.ExpectationSuite],
    sources: Mapping[str, _DuckSource],
    t0: float,
    new_sources: Mapping[str, _DuckSource] | None = None,
    checked_by: str | None = None,
) -> LayerResult:
    """Validate tables read through DuckDB: a row-wise pass, then one pass per key.

    A table of new_sources (its rows added since a validation, by run checked_by, that found
    nothing wrong in the others) gets its row-wise pass on those rows alone, when that gives
    the same outcome as a pass over every row: when no row-wise expectation allows a share
    of unexpected values (`mostly`)."""
    runner = _Runner()
    per_table = []
    new_rows_only: dict[str, dict[str, Any]] = {}
    for table, suite in suites.items():
        plan = _plan(table, suite)
        source = sources[table]
        tallies: dict[int, _Tally] = {}
        rows = source.rows
        if plan.row_wise is not None:
            row_source = source
            if table in (new_sources or {}) and _all_or_nothing(plan, plan.row_wise):
                row_source = (new_sources or {})[table]
                new_rows_only[table] = {"rows": row_source.rows, "checked_by": checked_by}
            _run_chunks(
                runner, plan, plan.row_wise,
                row_source.chunks(plan.columns(plan.row_wise), []), tallies,
            )  # fmt: skip
            for expectation in plan.row_wise.expectations:  # the rows checked before count
                tally = tallies.setdefault(int(expectation.id or 0), _Tally())
                tally.element_count += rows - row_source.rows
        for key, key_suite in plan.by_key:
            _run_chunks(
                runner, plan, key_suite, source.chunks(plan.columns(key_suite), key), tallies
            )
        _row_count(runner, plan, rows, tallies)
        per_table.append((plan, _finish(plan, tallies, rows), rows))
    return _result(layer, per_table, t0, new_rows_only)


def _all_or_nothing(plan: _Plan, suite: gx.ExpectationSuite) -> bool:
    """True when every expectation of the sub-suite fails on a single unexpected value."""
    return all(
        float(_kwargs(plan.expectations[int(e.id or 0)]).get("mostly", 1.0)) >= 1.0
        for e in suite.expectations
    )


def validate_parquet_layer(
    layer: str,
    tables: Mapping[str, str | Path | Sequence[Path] | ds.Dataset],
    expectations_dir: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    new_rows: Mapping[str, ds.Dataset] | None = None,
    checked_by: str | None = None,
) -> LayerResult:
    """Validate a lake layer: per table a Delta table's Arrow dataset, or Parquet (a folder,
    a glob, or a list of files). new_rows: per table, the dataset of its rows added since
    run checked_by validated it and found nothing wrong (see _validate_sources)."""
    t0 = time.perf_counter()
    suites = load_layer_suites(expectations_dir, layer)
    _check_tables(layer, suites, tables)
    with duckdb.connect() as con:
        sources = {
            table: _DuckSource.arrow(con, spec, chunk_rows, chunk_bytes)
            if isinstance(spec, ds.Dataset)
            else _DuckSource.parquet(con, _resolve_files(spec), chunk_rows, chunk_bytes)
            for table, spec in tables.items()
        }
        new_sources = {
            table: _DuckSource.arrow(con, rows, chunk_rows, chunk_bytes)
            for table, rows in (new_rows or {}).items()
        }
        return _validate_sources(layer, suites, sources, t0, new_sources, checked_by)


def validate_warehouse(
    db_path: Path,
    expectations_dir: Path,
    layer: str = "marts",
    schema: str = "marts",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> LayerResult:
    """Validate the warehouse tables of a layer's suites (read-only, chunked through DuckDB)."""
    t0 = time.perf_counter()
    suites = load_layer_suites(expectations_dir, layer)
    with duckdb.connect(str(db_path), read_only=True) as con:
        sources = {
            table: _DuckSource.table(con, schema, table, chunk_rows, chunk_bytes)
            for table in suites
        }
        return _validate_sources(layer, suites, sources, t0)


# Each lake layer: its table's name in the suite, the lake table, and whether only the rows
# of the current extractor version are validated (the staged tables hold several versions).
LAKE_LAYERS = {
    "raw_documents": ("documents", "raw_documents", False),
    "staged_articles": ("articles", "articles", True),
    "staged_statistics": ("statistics", "statistics", True),
    "staged_entities": ("entities", "entities", True),
}


def validate_lake(
    settings: Settings,
    lake_versions: Mapping[str, int | None] | None = None,
    checked: tuple[str, Mapping[str, int]] | None = None,
) -> dict[str, LayerResult]:
    """Validate the lake's layers (the staged tables' rows of the current extractor version;
    at lake_versions when given, else the latest).

    checked: a run, and the lake tables (with their versions) in which its validation found
    nothing wrong with the same suites and code (lake_checks_digest). A file of such a table
    then was, and stays, valid row by row: only the files added since get the row-wise
    expectations; uniqueness and row counts are still checked over every row.
    """
    results = {}
    for layer, (name, table, current_only) in LAKE_LAYERS.items():
        where = {"extractor_version": settings.extractor_version} if current_only else None
        found = lakeio.open_table(settings.lake, table, (lake_versions or {}).get(table))
        rows: ds.Dataset | list[Path] = (
            [] if found is None else lakeio.dataset(settings.lake, found, where)
        )
        new_rows, checked_by = {}, None
        if found is not None and checked is not None and table in checked[1]:
            before = lakeio.file_uris(settings.lake, table, checked[1][table], where)
            if before is not None:
                new_rows = {name: lakeio.dataset(settings.lake, found, where, leave_out=before)}
                checked_by = checked[0]
        results[layer] = validate_parquet_layer(
            layer, {name: rows}, settings.expectations_dir,
            new_rows=new_rows, checked_by=checked_by,
        )  # fmt: skip
    return results


def lake_checks_digest(settings: Settings) -> str:
    """What a validation of the lake's rows depends on besides the rows: the suites, the
    extractor version (which rows), this module and Great Expectations' version."""
    digest = hashlib.sha256()
    for part in (folder_digest(settings.expectations_dir), settings.extractor_version,
                 gx.__version__):  # fmt: skip
        digest.update(part.encode("utf-8") + b"\n")
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def clean_lake_tables(
    results: Mapping[str, Mapping[str, Any]], lake_versions: Mapping[str, int | None]
) -> dict[str, int]:
    """The lake tables, at lake_versions, whose layers' validation results (as in a run
    report) found nothing wrong, not even a warning: what `validate_lake` may take as checked."""
    clean = {}
    for layer, (_, table, _) in LAKE_LAYERS.items():
        outcome = results.get(layer) or {}
        version = lake_versions.get(table)
        if outcome.get("success") and not outcome.get("failures") and version is not None:
            clean[table] = version
    return clean


# --- the validation page -----------------------------------------------------------------


def write_validation_site(
    results: Mapping[str, Mapping[str, Any]], expectations_dir: Path, folder: Path, title: str
) -> Path:
    """A static HTML page of a run's validation results: `<folder>/index.html`.

    GX's own Data Docs render the validation results GX stores, one per validated batch; here
    a table is validated chunk by chunk and the counts added up, so those pages would show
    partial counts. This page lists, per layer and table, every expectation of the committed
    suite with its added-up outcome (the run report's `validation`).
    """
    body = [f"<h1>{escape(title)}</h1>"]
    for layer, outcome in results.items():
        verdict = "passed" if outcome.get("success") else "FAILED"
        body.append(f"<h2>{escape(layer)}: {verdict}</h2>")
        if layer not in LAYERS:  # dbt: its nodes that did not pass
            body += [f"<p>{escape(str(f.get('node')))}: {escape(str(f.get('message')))}</p>"
                     for f in outcome.get("failures", [])]  # fmt: skip
            continue
        failed = {
            (f["table"], f["expectation_type"], json.dumps(f["kwargs"], sort_keys=True)): f
            for f in outcome.get("failures", [])
        }
        for table, suite in load_layer_suites(expectations_dir, layer).items():
            rows = outcome.get("rows", {}).get(table)
            counted = f"{rows} rows"
            if newer := (outcome.get("new_rows_only") or {}).get(table):
                counted += (
                    f"; row by row, the {newer['rows']} added since run {newer['checked_by']},"
                    " which found nothing wrong in the others"
                )
            body.append(f"<h3>{escape(table)} ({escape(counted)})</h3>")
            body.append(
                "<table><tr><th>expectation</th><th>arguments</th><th>severity</th>"
                "<th>outcome</th></tr>"
            )
            for expectation in suite.expectations:
                kwargs = _kwargs(expectation)
                key = (table, expectation.expectation_type, json.dumps(kwargs, sort_keys=True))
                failure = failed.get(key)
                severity = str(getattr(expectation.severity, "value", expectation.severity))
                result = "passed" if failure is None else _failure_text(failure)
                css = "pass" if failure is None else "fail"
                body.append(
                    f"<tr class={css}><td>{escape(expectation.expectation_type)}</td>"
                    f"<td><code>{escape(json.dumps(kwargs))}</code></td>"
                    f"<td>{escape(severity)}</td><td>{escape(result)}</td></tr>"
                )
            body.append("</table>")
    page = (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        ".fail{background:#fdd}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    tmp = folder / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def _failure_text(failure: Mapping[str, Any]) -> str:
    if failure.get("error"):
        return f"error: {failure['error']}"
    if failure.get("unexpected_count") is None:
        return f"failed (observed {failure.get('observed_value')})"
    examples = ", ".join(failure.get("examples") or [])
    return f"failed: {failure['unexpected_count']} of {failure['element_count']} rows" + (
        f" (e.g. {examples})" if examples else ""
    )


# --- reading through DuckDB --------------------------------------------------------------


def _resolve_files(spec: str | Path | Sequence[Path]) -> list[Path]:
    """Committed Parquet files of a folder, a glob or a list (temporary `.` files left out)."""
    if isinstance(spec, str):
        found = [Path(p) for p in glob.glob(spec, recursive=True)]
        return sorted(p for p in found if p.is_file() and not p.name.startswith("."))
    if isinstance(spec, Path):
        if spec.is_dir():
            return sorted(p for p in spec.rglob("*.parquet") if not p.name.startswith("."))
        return [spec] if spec.exists() else []
    return [Path(p) for p in spec]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas; decimals (DuckDB's HUGEINT sums) become floats."""
    for i, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.float64()))
    return table.to_pandas()


@dataclass(frozen=True)
class _DuckSource:
    """A table DuckDB can read (Parquet files or a warehouse table), read in chunks. It is a
    DuckDB relation: paths and names never enter SQL text."""

    con: duckdb.DuckDBPyConnection
    relation: duckdb.DuckDBPyRelation | None  # None when there is no table or no file
    available: tuple[str, ...]
    chunk_rows: int
    chunk_bytes: int
    missing_ok: bool = False  # no Parquet file yet is an empty table, a missing mart is not
    dataset: ds.Dataset | None = None  # the Arrow dataset the relation reads, if it is one

    @classmethod
    def parquet(
        cls, con: duckdb.DuckDBPyConnection, files: list[Path], chunk_rows: int, chunk_bytes: int
    ) -> _DuckSource:
        if not files:
            return cls(con, None, (), chunk_rows, chunk_bytes, missing_ok=True)
        relation = con.read_parquet(
            [str(p) for p in files], union_by_name=True, hive_partitioning=False
        )
        return cls(con, relation, tuple(relation.columns), chunk_rows, chunk_bytes)

    @classmethod
    def arrow(
        cls, con: duckdb.DuckDBPyConnection, dataset: ds.Dataset, chunk_rows: int, chunk_bytes: int
    ) -> _DuckSource:
        relation = con.from_arrow(dataset)
        return cls(con, relation, tuple(relation.columns), chunk_rows, chunk_bytes, dataset=dataset)

    @classmethod
    def table(
        cls,
        con: duckdb.DuckDBPyConnection,
        schema: str,
        table: str,
        chunk_rows: int,
        chunk_bytes: int,
    ) -> _DuckSource:
        names = con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if not names:
            return cls(con, None, (), chunk_rows, chunk_bytes)
        relation = con.table(f"{_quote(schema)}.{_quote(table)}")
        return cls(con, relation, tuple(row[0] for row in names), chunk_rows, chunk_bytes)

    @cached_property
    def rows(self) -> int:
        """Number of rows of the table."""
        if self.relation is None:
            return 0
        [(count,)] = self.relation.aggregate("count(*)").fetchall()
        return int(count)

    def _text_bytes(self, columns: list[str]) -> int:
        """Bytes of the text in these columns (what pandas copies), summed by DuckDB."""
        assert self.relation is not None
        types = dict(zip(self.relation.columns, self.relation.types, strict=True))
        text = [c for c in columns if str(types[c]) == "VARCHAR"]
        if not text:
            return 0
        sizes = [
            FunctionExpression("sum", FunctionExpression("strlen", ColumnExpression(c)))
            for c in text
        ]
        [row] = self._reading(text).aggregate(sizes).fetchall()
        return int(sum(size or 0 for size in row))  # a sum over no rows is null

    def _scanner(self, columns: list[str], threads: bool) -> ds.Scanner:
        """A scanner of the Arrow dataset's columns for one pass (spent after it), one file
        and one batch ahead. threads: Arrow decodes in its pool, for a reader that keeps up."""
        assert self.dataset is not None
        return ds.Scanner.from_dataset(
            self.dataset, columns=columns, batch_size=READ_BATCH_ROWS, batch_readahead=1,
            fragment_readahead=1, use_threads=threads,
        )  # fmt: skip

    def _reading(self, columns: list[str]) -> duckdb.DuckDBPyRelation:
        """A relation of these columns for one pass that DuckDB reads through at its own
        pace (an aggregate, a chunk made whole): an Arrow dataset's reads a scanner of its
        own, not DuckDB's scan of the dataset, which reads several files ahead."""
        assert self.relation is not None
        if self.dataset is None:
            return self.relation.select(*(ColumnExpression(c) for c in columns))
        return self.con.from_arrow(self._scanner(columns, threads=True))

    def _batches(self, columns: list[str]) -> tuple[pa.Schema, Iterable[pa.RecordBatch]]:
        """These columns' record batches, as fast as a slow reader (GX) takes them. An Arrow
        dataset's come from its scanner, one thread, with no DuckDB between: DuckDB's stream
        of an Arrow scan runs ahead of a slow reader, and on the 100k bench lake held 680 MiB
        of entities' batches not yet read where the scanner alone holds 60."""
        if self.dataset is None:
            reader = self._reading(columns).to_arrow_reader(min(READ_BATCH_ROWS, self.chunk_rows))
            return reader.schema, reader
        scanner = self._scanner(columns, threads=False)
        return scanner.projected_schema, scanner.to_batches()

    def chunks(self, columns: list[str], key: list[str]) -> Iterator[pd.DataFrame]:
        """Chunks of the columns that exist (GX reports the missing); split by a key's hash.

        At least one chunk, possibly empty, so that GX still checks that the columns exist.
        """
        if self.relation is None:
            if not self.missing_ok:  # every column expectation then reports the table missing
                yield pd.DataFrame()
            return
        present = [c for c in columns if c in self.available]
        if not present:
            yield pd.DataFrame(index=pd.RangeIndex(self.rows))
            return
        parts = math.ceil(self.rows / self.chunk_rows)
        if key and all(c in self.available for c in key):
            # A key's rows stay in one chunk (a copy must meet its first): the chunks are
            # parts by the key's hash, as many as the rows and the text's bytes need.
            parts = max(parts, math.ceil(self._text_bytes(present) / self.chunk_bytes))
        if key and parts > 1 and all(c in self.available for c in key):
            digest = FunctionExpression("hash", *(ColumnExpression(c) for c in key))
            read = [*present, *(c for c in key if c not in present)]
            for part in range(parts):
                chosen = self._reading(read).filter(
                    digest % ConstantExpression(parts) == ConstantExpression(part)
                )
                yield _to_pandas(
                    chosen.select(*(ColumnExpression(c) for c in present)).to_arrow_table()
                )
            return
        schema, batches = self._batches(present)
        yielded = False
        for table in _rebatch(batches, self.chunk_rows, self.chunk_bytes):
            yielded = True
            yield _to_pandas(table)
        if not yielded:
            yield _to_pandas(schema.empty_table())


def _rebatch(
    batches: Iterable[pa.RecordBatch], max_rows: int, max_bytes: int
) -> Iterator[pa.Table]:
    """Record batches gathered into tables of at most about max_rows rows or max_bytes."""
    pending: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows >= max_rows or size >= max_bytes:
            yield pa.Table.from_batches(pending)
            pending, rows, size = [], 0, 0
    if pending:
        yield pa.Table.from_batches(pending)
