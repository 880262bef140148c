"""Where a run validates (tracelake/validate.py): in the flow's process, or, once the lake is
large, in a worker process of its own (tracelake/workers.py), which gives back as it ends
what validating held. The flow's process kept it: Great Expectations' modules (250 MiB), and
what the allocators of Polars, Arrow and pandas hold after match and after each layer, so
that at 100,000 documents it peaked at 1,346 MiB validating the marts, which alone take
715 MiB.

This module does not import Great Expectations: the process that validates does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from tracelake import lakeio, stages, workers
from tracelake.config import Settings

P = ParamSpec("P")
R = TypeVar("R")

# Processes in the validating pool. Segmenting and landing only start pools of two or more
# (Runner.processes, land._side_by_side), so a pool of one is this one.
APART = 1


@dataclass(frozen=True)
class LakeChecks:
    """The lake's validation, and what the next run's may rely on."""

    results: dict[str, dict[str, Any]]  # per layer, as in the run report
    digest: str  # what the results depend on besides the rows (validate.lake_checks_digest)
    clean: dict[str, int]  # the lake tables, at their versions, in which nothing was wrong


def lake_documents(settings: Settings, versions: Mapping[str, int | None]) -> int:
    """The documents in the lake at versions, from the Delta log (no data file is read)."""
    table = lakeio.open_table(settings.lake, "raw_documents", versions.get("raw_documents"))
    if table is None:
        return 0
    files = pa.table(table.get_add_actions(flatten=False))
    return int(pc.sum(files["num_records"]).as_py() or 0)


def start(settings: Settings, versions: Mapping[str, int | None]) -> bool:
    """Start the validating process when the lake holds settings.validate_apart documents or
    more; whether it did. Call it from the flow's thread: the process dies with it."""
    if lake_documents(settings, versions) < settings.validate_apart:
        return False
    workers.pool(APART, preload)
    return True


def preload() -> None:
    """The validating process's first step: Great Expectations' import (2 to 4 s), while the
    run goes on."""
    from tracelake import validate  # noqa: F401 - imported for its loading


def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args) in the validating process when one is started, else here."""
    return workers.call(APART if workers.running(APART) else 0, fn, *args, **kwargs)


def check_lake(settings: Settings, versions: dict[str, int | None]) -> LakeChecks:
    """Validate the lake at versions. The rows of the published build's lake in which its
    validation found nothing wrong are not checked row by row again: only the rows added
    since."""
    from tracelake import validate

    digest = validate.lake_checks_digest(settings)
    checked = stages.lake_checked_before(settings, digest)
    layers = validate.validate_lake(settings, versions, checked)
    results = {layer: result.to_dict() for layer, result in layers.items()}
    return LakeChecks(results, digest, validate.clean_lake_tables(results, versions))


def check_marts(settings: Settings, warehouse: Path) -> dict[str, Any]:
    """Validate the marts of the warehouse, as in the run report."""
    from tracelake import validate

    return validate.validate_warehouse(warehouse, settings.expectations_dir).to_dict()


def write_site(
    results: Mapping[str, Mapping[str, Any]], expectations_dir: Path, folder: Path, title: str
) -> Path:
    """The validation page of a run (validate.write_validation_site)."""
    from tracelake import validate

    return validate.write_validation_site(results, expectations_dir, folder, title)
