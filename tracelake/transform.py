"""Transform: dbt build of the staged Parquet into a new DuckDB warehouse file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tracelake.config import Settings


@dataclass
class DbtResult:
    """Outcome of one dbt invocation: success, and the nodes that did not pass."""

    success: bool
    command: str
    failures: list[dict] = field(default_factory=list)
    elapsed_s: float | None = None
    log_tail: str = ""


def dbt_env(settings: Settings, warehouse: Path) -> dict[str, str]:
    """Environment that points the dbt project at this lake and this warehouse file."""
    return os.environ | {
        "TRACELAKE_LAKE_DIR": str(settings.lake_dir),
        "TRACELAKE_EXTRACTOR_VERSION": settings.extractor_version,
        "TRACELAKE_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def dbt_executable() -> str:
    """The dbt CLI installed beside the running interpreter."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(settings: Settings, warehouse: Path, command: str = "build") -> DbtResult:
    """Run `dbt <command>` on the project against warehouse; never raises on model failures."""
    target = settings.build_dir / "dbt" / "target"
    logs = settings.build_dir / "dbt" / "logs"
    args = [
        dbt_executable(), command,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(logs),
        "--no-use-colors",
    ]  # fmt: skip
    if command == "docs":
        args[1:2] = ["docs", "generate"]
    proc = subprocess.run(
        args,
        env=dbt_env(settings, warehouse),
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.dbt_project_dir,
    )
    result = DbtResult(
        success=proc.returncode == 0,
        command=" ".join(args[:2]),
        log_tail="\n".join((proc.stdout + proc.stderr).splitlines()[-40:]),
    )
    run_results = target / "run_results.json"
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
