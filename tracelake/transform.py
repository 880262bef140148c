"""Transform: dbt build of the staged Parquet into a new DuckDB warehouse file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracelake.config import Settings, folder_digest
from tracelake.dbt_process import LATE_PREFIX, SINCE_PREFIX
from tracelake.incidents import matcher_version
from tracelake.lakeio import write_bytes_atomic
from tracelake.processes import die_with_parent

# What `dbt docs generate --static` writes that the docs site needs: the page, the same page
# with manifest and catalog inlined (opens from disk, no web server), and their JSON.
DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")
# Beside them: the digest of what the site was generated from (docs_digest).
DOCS_STAMP = ".generated-from"
# The pipeline's build leaves out dbt's unit tests: they test the models' SQL on fixed rows,
# whatever the lake holds, so they run with the code's tests (UNIT_TEST_ARGS, in pytest),
# not in every build of the data.
BUILD_ARGS = ("--exclude-resource-type", "unit_test")
# A build that starts from a copy of the published warehouse (an incremental build) has its
# seeds, loaded by the same dbt project (stages.added_since): it builds the models and every
# test of a model, and leaves out the seeds and the tests of the seeds alone.
INCREMENTAL_ARGS = ("--select", "resource_type:model")
# The unit tests, each before its model, with every model built empty (no data tests).
UNIT_TEST_ARGS = ("--empty", "--exclude-resource-type", "test")
# The docs site: one page that opens from disk; the build just compiled every node.
DOCS_ARGS = ("--static", "--no-compile")


@dataclass
class DbtResult:
    """Outcome of one dbt invocation: success, and the nodes that did not pass."""

    success: bool
    command: str
    failures: list[dict] = field(default_factory=list)
    elapsed_s: float | None = None
    log_tail: str = ""


def dbt_env(
    settings: Settings,
    warehouse: Path,
    lake_versions: Mapping[str, int | None] | None = None,
    matcher: str | None = None,
) -> dict[str, str]:
    """Environment that points the dbt project at this lake (its tables at lake_versions when
    given, else the latest) and this warehouse file."""
    return (
        os.environ
        | lake_version_env(lake_versions)
        | {
            "TRACELAKE_LAKE_URL": settings.lake.url,
            "TRACELAKE_EXTRACTOR_VERSION": settings.extractor_version,
            "TRACELAKE_MATCHER_VERSION": matcher or matcher_version(),
            "TRACELAKE_WAREHOUSE": str(warehouse),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )


def lake_version_env(
    lake_versions: Mapping[str, int | None] | None, since: Mapping[str, int] | None = None
) -> dict[str, str]:
    """The variables that pin the lake's tables at lake_versions for dbt's delta plugin, and
    (since) the versions an incremental build adds the rows since."""
    pinned = {
        f"{LATE_PREFIX}{table.upper()}": str(version)
        for table, version in (lake_versions or {}).items()
        if version is not None
    }
    return pinned | {f"{SINCE_PREFIX}{t.upper()}": str(v) for t, v in (since or {}).items()}


def dbt_target_dir(settings: Settings) -> Path:
    """dbt's target folder (manifest, compiled SQL, run results) for the pipeline's runs."""
    return settings.build_dir / "dbt" / "target"


_running: set[subprocess.Popen] = set()  # the dbt processes under way


def stop_dbt() -> None:
    """End the dbt processes under way: their build will not be published (their runs
    return a failed DbtResult)."""
    for proc in list(_running):
        proc.kill()


class DbtProcess:
    """`dbt <command>` on the project against warehouse, in a process started now: it imports
    dbt and parses the project (tracelake/dbt_process.py) while the caller goes on, and runs
    the command when `result` gives it the lake versions to read.

    command "docs" runs `dbt docs generate`. Every command shares one target folder under
    the build dir, so later commands reuse the parse of the first.
    """

    def __init__(
        self,
        settings: Settings,
        warehouse: Path,
        command: str = "build",
        extra_args: Sequence[str] = (),
        matcher: str | None = None,
    ) -> None:
        self.target = dbt_target_dir(settings)
        self.args = [
            *(["docs", "generate"] if command == "docs" else [command]),
            "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_project_dir),
            "--target-path", str(self.target),
            "--log-path", str(settings.build_dir / "dbt" / "logs"),
            "--no-use-colors",
            *extra_args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracelake.dbt_process", *self.args],
            env=dbt_env(settings, warehouse, None, matcher),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=settings.dbt_project_dir,
            preexec_fn=die_with_parent,
        )
        _running.add(self.proc)

    def result(
        self,
        lake_versions: Mapping[str, int | None] | None = None,
        since: Mapping[str, int] | None = None,
    ) -> DbtResult:
        """Run the command on the lake at lake_versions (else the latest) and wait for it;
        since: the versions an incremental build adds the rows since (the warehouse is a
        copy of the published one: INCREMENTAL_ARGS). Never raises on model failures."""
        run_results = self.target / "run_results.json"
        run_results.unlink(missing_ok=True)  # never read the results of an earlier command
        late = json.dumps({
            "env": lake_version_env(lake_versions, since),
            "args": list(INCREMENTAL_ARGS) if since else [],
        })  # fmt: skip
        try:
            stdout, stderr = self.proc.communicate(late + "\n")
        except BaseException:  # a stopped run: dbt ends with it
            self.proc.kill()
            raise
        finally:
            _running.discard(self.proc)
        result = DbtResult(
            success=self.proc.returncode == 0,
            command="dbt " + " ".join(self.args[: 2 if self.args[0] == "docs" else 1]),
            log_tail="\n".join((stdout + stderr).splitlines()[-40:]),
        )
        if run_results.exists():
            data = json.loads(run_results.read_text())
            result.elapsed_s = data.get("elapsed_time")
            result.failures = [
                {
                    "node": r.get("unique_id"),
                    "status": r.get("status"),
                    "message": (r.get("message") or "")[:500],
                    "failures": r.get("failures"),
                }
                for r in data.get("results", [])
                if r.get("status") in ("error", "fail", "runtime error")
            ]
        return result

    def cancel(self) -> None:
        """End the process if it has not run its command (nothing needs building, or the run
        failed before the build)."""
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate()
        _running.discard(self.proc)


def run_dbt(
    settings: Settings,
    warehouse: Path,
    command: str = "build",
    extra_args: Sequence[str] = (),
    lake_versions: Mapping[str, int | None] | None = None,
    matcher: str | None = None,
) -> DbtResult:
    """Run `dbt <command>` (see DbtProcess) now and wait for it; never raises on model
    failures."""
    return DbtProcess(settings, warehouse, command, extra_args, matcher).result(lake_versions)


def docs_digest(settings: Settings) -> str:
    """What the docs site shows depends on: the dbt project and the lake versions it reads
    (the models' columns and SQL; the docs hold no data)."""
    return ":".join((
        folder_digest(settings.dbt_project_dir), settings.extractor_version, matcher_version()
    ))  # fmt: skip


def docs_are_current(settings: Settings) -> bool:
    """True when the docs site was generated from the dbt project as it is now."""
    site = settings.site_dir / "dbt"
    stamp = site / DOCS_STAMP
    return (
        all((site / name).exists() for name in DOCS_FILES)
        and stamp.exists()
        and stamp.read_text(encoding="utf-8") == docs_digest(settings)
    )


def generate_docs(
    settings: Settings,
    warehouse: Path,
    lake_versions: Mapping[str, int | None] | None = None,
    matcher: str | None = None,
    started: DbtProcess | None = None,
) -> DbtResult:
    """`dbt docs generate` against a built warehouse (in `started`, when its process was
    started ahead for it); the site goes to <site_dir>/dbt.

    The site's files are replaced one by one (each in one rename) only when dbt succeeds,
    so a failed generation leaves the last site in place. Open static_index.html from disk,
    or serve the folder and open index.html.
    """
    digest = docs_digest(settings)
    if started is None:
        started = DbtProcess(settings, warehouse, "docs", DOCS_ARGS, matcher)
    result = started.result(lake_versions)
    if not result.success:
        return result
    site = settings.site_dir / "dbt"
    site.mkdir(parents=True, exist_ok=True)
    target = dbt_target_dir(settings)
    for name in DOCS_FILES:
        staged = site / f".{name}.tmp"
        shutil.copyfile(target / name, staged)
        os.replace(staged, site / name)
    write_bytes_atomic(site / DOCS_STAMP, digest.encode("utf-8"))
    return result
