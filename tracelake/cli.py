"""tracelake's command line: `tracelake run [--source PATH] [--data-dir PATH]`."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from tracelake.config import Settings


def prefect_environment(data_dir: Path) -> None:
    """Keep Prefect's home, database and logs inside the data dir; quiet by default."""
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@contextmanager
def run_lock(data_dir: Path, wait: bool):
    """One run at a time per data dir: a second one waits, or stops with a clear message."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise SystemExit(
                f"tracelake: another run is using {data_dir}; try again when it ends "
                "(or pass --wait)"
            ) from None
        yield


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(source_dir=args.source, data_dir=args.data_dir)
    prefect_environment(settings.data_dir)
    with run_lock(settings.data_dir, args.wait):
        from flows.pipeline import pipeline

        try:
            result = pipeline(str(settings.source_dir), str(settings.data_dir))
        except Exception as error:  # noqa: BLE001 - reported, then a non-zero exit
            print(f"tracelake: run failed: {error}", file=sys.stderr)
            _print_latest(settings)
            return 1
    _print_latest(settings)
    return 0 if result.get("published") else 1


def cmd_status(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=args.data_dir)
    latest = settings.runs_dir / "latest.json"
    if not latest.exists():
        print(f"no run yet in {settings.data_dir}")
        return 1
    _print_latest(settings)
    return 0


def _print_latest(settings: Settings) -> None:
    from tracelake.report import RunReport

    latest = settings.runs_dir / "latest.json"
    if latest.exists():
        print(RunReport(**json.loads(latest.read_text())).summary())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracelake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline once and publish the warehouse")
    run.add_argument("--source", type=Path, help="folder of documents (default: seeds/)")
    run.add_argument("--data-dir", type=Path, help="lake and warehouse folder (default: data/)")
    run.add_argument("--wait", action="store_true", help="wait for a run already in progress")
    run.set_defaults(func=cmd_run)
    status = sub.add_parser("status", help="the last run's outcome and counts")
    status.add_argument("--data-dir", type=Path)
    status.set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
