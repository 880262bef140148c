"""tracelake's command line: `tracelake run`, `serve`, `status` and `maintain`."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from tracelake.config import Settings
from tracelake.lakelock import lake_lock
from tracelake.processes import die_with_parent
from tracelake.report import RunStopped
from tracelake.runlock import RunLocked, holder_pid, run_lock

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEFAULT_CRON = "0 * * * *"  # hourly
DEFAULT_PORT = 4200
SERVER_START_SECONDS = 120
# for Prefect to send its queued logs and events before its server stops (a second, usually)
DRAIN_SECONDS = 10
MAX_QUARANTINE_LINES = 50
DEFAULT_RETENTION_HOURS = 168.0
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the data dir; try again later
EXIT_USAGE = 2  # a mistake in the command line or the settings: retrying will not help


class UsageError(Exception):
    """A mistake the user must fix: said in one line, exit 2, never retried."""


def checked_settings(args: argparse.Namespace, source: bool = True) -> Settings:
    """Settings of a command, with the source and data dir checked before anything starts."""
    try:
        settings = Settings.from_env(
            source_dir=getattr(args, "source", None),
            data_dir=args.data_dir,
            lake_url=getattr(args, "lake", None),
        )
    except ValueError as error:
        raise UsageError(f"a TRACELAKE_* setting is not valid: {error}") from error
    if source:
        where = "give an existing folder with --source (or TRACELAKE_SOURCE_DIR)"
        if not settings.source_dir.exists():
            raise UsageError(f"source folder {settings.source_dir} does not exist: {where}")
        if not os.access(settings.source_dir, os.R_OK):
            raise UsageError(f"source {settings.source_dir} cannot be read: {where}")
    data = settings.data_dir
    fix = "choose another with --data-dir (or TRACELAKE_DATA_DIR)"
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise UsageError(
            f"cannot write to data dir {data} ({error.strerror or error}): {fix}"
        ) from error
    return settings


def checked_cron(expression: str) -> str:
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=expression)
    except ValueError as error:
        raise UsageError(
            f"bad cron expression {expression!r}: give five fields, minute hour day month "
            'weekday, e.g. "0 * * * *" for every hour'
        ) from error
    return expression


def prefect_environment(data_dir: Path) -> None:
    """Keep Prefect's home, database and logs inside the data dir; quiet by default."""
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _up_to_date(settings: Settings) -> bool:
    """When nothing is new since the published build, say so in a run report and skip the
    flow."""
    from tracelake import stages
    from tracelake.report import RunReport, new_run_id

    started = time.perf_counter()
    scan = stages.scan_source(settings)
    found = stages.nothing_new(settings, scan)
    if found is None:
        stages.hand_over(settings, scan)  # the flow's first step, done
        return False
    current, files = found
    report = RunReport.start(
        new_run_id(), settings.source_dir, settings.data_dir, settings.extractor_version
    )
    report.up_to_date, report.warehouse = True, str(settings.warehouse_path)
    report.documents_seen = report.documents_present = files
    counts = stages.staged_counts(settings)
    report.articles, report.statistics, report.entities = (
        counts["articles"], counts["statistics"], counts["entities"],
    )  # fmt: skip
    report.stages["build"] = {
        "seconds": round(time.perf_counter() - started, 3),
        "skipped": f"nothing new since run {current}",
    }
    report.finish("succeeded")
    report.write(settings.runs_dir)
    print(report.summary())
    return True


def _raise_stopped(signum: int, frame: object) -> None:
    raise RunStopped(signum)


def cmd_run(args: argparse.Namespace) -> int:
    settings = checked_settings(args)
    prefect_environment(settings.data_dir)
    # Stop on SIGTERM as on Ctrl-C (report, release the lock, end the children), and on
    # SIGINT even when the shell that started the run in the background ignored it.
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # The locks first, before Prefect's server starts. The server starts on the other core
        # while the run looks for new input and the flow's modules import; a run with nothing
        # new stops it unused.
        with (
            run_lock(settings.data_dir, args.wait),
            lake_lock(settings.lake, args.wait),
            prefect_api(settings, scheduler=False) as api,
        ):
            if not args.lake_version and _up_to_date(settings):
                return 0
            from flows.pipeline import pipeline

            api.wait()
            try:
                result = pipeline(
                    str(settings.source_dir),
                    str(settings.data_dir),
                    lake=settings.lake.url,
                    task_runner=args.task_runner,
                    dask_address=args.dask_address,
                    lake_version=args.lake_version,
                )
            except Exception as error:  # noqa: BLE001 - reported, then a non-zero exit
                print(f"tracelake: run failed: {error}", file=sys.stderr)
                _print_latest(settings)
                return 1
            finally:
                from tracelake import stages

                stages.forget_handed()  # a flow that failed before its first step left it
    except RunLocked as error:
        print(f"tracelake: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except (KeyboardInterrupt, RunStopped) as error:
        signum = error.signum if isinstance(error, RunStopped) else signal.SIGINT
        print(
            f"tracelake: run stopped by {signal.Signals(signum).name}; the published "
            "warehouse is unchanged",
            file=sys.stderr,
        )
        _print_latest(settings)
        return 128 + signum
    _print_latest(settings)
    return 0 if result.get("published") or result.get("up_to_date") else 1


def cmd_serve(args: argparse.Namespace) -> int:
    checked_cron(args.cron)
    settings = checked_settings(args)
    prefect_environment(settings.data_dir)
    with prefect_api(settings, args.port) as api:
        api_url = api.wait()
        if api.server is not None:
            print(
                f"tracelake: Prefect server at {api_url.removesuffix('/api')} (log {api.log_path})"
            )
        from prefect.runner import Runner

        class ServeRunner(Runner):
            def handle_sigterm(self, *args: object, **kwargs: object) -> None:
                # Prefect 3.8's handler leaves its stop() un-awaited and the process hanging;
                # stop as on Ctrl-C instead.
                raise KeyboardInterrupt

        runner = ServeRunner(name="tracelake", limit=1)  # one run at a time from here
        runner.add_deployment(deployment(settings, args.cron))
        print(
            f"tracelake: serving {settings.source_dir} -> {settings.data_dir} on cron "
            f"{args.cron!r}; runs are listed at {api_url.removesuffix('/api')}; Ctrl-C stops",
            flush=True,
        )
        try:
            asyncio.run(runner.start())
        except KeyboardInterrupt:
            print("tracelake: stopped serving", flush=True)
    return 0


def deployment(settings: Settings, cron: str) -> RunnerDeployment:
    """The flow `pipeline` as the deployment `pipeline/tracelake`: on cron, over the source
    and data dir of settings, its entrypoint the installed module (any working dir)."""
    from prefect.deployments.runner import EntrypointType

    from flows.pipeline import pipeline

    return pipeline.to_deployment(
        name="tracelake",
        cron=cron,
        parameters={
            "source_dir": str(settings.source_dir),
            "data_dir": str(settings.data_dir),
            "lake": settings.lake.url,
        },  # fmt: skip
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


# A new Prefect database is made by running every migration of Prefect's schema: about 11 s
# of a server's start, against 6 s for the rest. So the first server of an installation leaves
# a copy of its database, taken as soon as it answers (migrated, no run in it yet), and the
# server of each new data dir starts from that copy. It is kept with the installation, per
# Prefect version: a copy left behind by an upgrade would still be migrated on start.
PREFECT_TEMPLATES = Path(sys.prefix) / "var" / "tracelake"


def prefect_database_template() -> Path | None:
    """Where the copy of an empty Prefect database of this installation is kept; None when
    Prefect's database is not its default SQLite file."""
    if "PREFECT_API_DATABASE_CONNECTION_URL" in os.environ:
        return None
    from importlib.metadata import version  # not `import prefect`: 2 s before the server

    return PREFECT_TEMPLATES / f"prefect-{version('prefect')}.db"


def seed_prefect_database(database: Path, template: Path | None) -> bool:
    """Start a new Prefect home's database as a copy of template, when there is one."""
    if template is None or database.exists() or not template.exists():
        return False
    partial = database.with_name(f".{database.name}.tmp")
    shutil.copyfile(template, partial)
    os.replace(partial, database)
    return True


def keep_prefect_template(database: Path, template: Path) -> None:
    """Copy a just-migrated Prefect database to template (SQLite's online backup: the server
    has it open). A template that cannot be written is not needed."""
    import sqlite3

    partial = template.with_name(f".{template.name}.{os.getpid()}.tmp")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        # `with` on a sqlite3 connection ends a transaction; `closing` closes it
        with (
            closing(sqlite3.connect(database)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
        os.replace(partial, template)
    except (OSError, sqlite3.Error):
        partial.unlink(missing_ok=True)


class PrefectApi:
    """The Prefect API of a run or of `tracelake serve`: PREFECT_API_URL when set, else a
    `prefect server start` of our own (state in <data-dir>/prefect, its database started from
    the installation's template). The server process is started here; `wait` returns once it
    answers."""

    def __init__(self, settings: Settings, port: int | None, scheduler: bool) -> None:
        self.url = os.environ.get("PREFECT_API_URL")
        self.server: subprocess.Popen | None = None
        self.log_path = settings.prefect_home / "server.log"
        self.new_template: tuple[Path, Path] | None = None  # (database, template) to keep
        if self.url:
            return
        database = Path(os.environ.get("PREFECT_HOME", settings.prefect_home)) / "prefect.db"
        template = prefect_database_template()
        if (
            template is not None
            and not seed_prefect_database(database, template)
            and not database.exists()
        ):
            self.new_template = (database, template)
        port = port or _free_port()
        self.url = f"http://127.0.0.1:{port}/api"
        command = [str(Path(sys.executable).parent / "prefect"), "server", "start",
                   "--host", "127.0.0.1", "--port", str(port), "--analytics-off"]  # fmt: skip
        if not scheduler:  # a run: no schedules and no UI; its task runs are still recorded
            command += ["--no-scheduler", "--no-late-runs", "--no-ui"]
        with open(self.log_path, "wb") as log:  # the log of its latest start
            self.server = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
                preexec_fn=die_with_parent,  # and killed with a run that is killed
            )
        # set before Prefect is imported: Prefect reads its settings then
        os.environ["PREFECT_API_URL"] = self.url

    def wait(self) -> str:
        if self.server is not None:
            _wait_for_api(self.url or "", self.server, self.log_path)
            if self.new_template is not None:
                keep_prefect_template(*self.new_template)
                self.new_template = None
        return self.url or ""

    def stop(self) -> None:
        if self.server is not None:
            _drain_prefect()
            _stop(self.server)
            os.environ.pop("PREFECT_API_URL", None)


def _drain_prefect() -> None:
    """Send the logs and events Prefect still holds while its server is up: left queued, they
    were sent at the process's exit to a server already stopped, and the exit waited on the
    failed connections (about 1.5 s, and an 'Error logging to API' on the console)."""
    if "prefect" not in sys.modules:  # no flow ran: nothing is queued
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=DRAIN_SECONDS)


@contextmanager
def prefect_api(
    settings: Settings, port: int | None = None, scheduler: bool = True
) -> Iterator[PrefectApi]:
    """A PrefectApi, its server (if ours) stopped on exit. `tracelake serve` needs the
    server's scheduler and UI; a run needs the API and the services that record its task
    runs, on any free port."""
    api = PrefectApi(settings, port, scheduler)
    try:
        yield api
    finally:
        api.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_api(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise SystemExit(f"tracelake: the Prefect server did not start:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"tracelake: no Prefect server at {url} after {SERVER_START_SECONDS}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _lake_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lake",
        metavar="URL",
        help="the lake: a folder or s3://bucket/prefix (default: TRACELAKE_LAKE_URL, else "
        "<data-dir>/lake)",
    )


def cmd_maintain(args: argparse.Namespace) -> int:
    from tracelake.lakeio import maintain

    if args.retention_hours < 0:
        raise UsageError("--retention-hours must be 0 or more")
    settings = checked_settings(args, source=False)
    try:
        with run_lock(settings.data_dir, args.wait), lake_lock(settings.lake, args.wait):
            done = maintain(settings.lake, args.retention_hours)
    except RunLocked as error:
        print(f"tracelake: {error}", file=sys.stderr)
        return EXIT_LOCKED
    for table, counts in done.items():
        print(
            f"{table}: {counts['files_compacted']} file(s) compacted into "
            f"{counts['files_written']}, {counts['files_vacuumed']} old file(s) deleted"
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=args.data_dir, lake_url=args.lake)
    text, has_run = status_text(settings)
    print(text)
    return 0 if has_run else 1


def status_text(settings: Settings) -> tuple[str, bool]:
    """What an operator asks first: is a run going, how did the last one end, what is kept
    apart. Also says whether any run was ever recorded."""
    from tracelake.land import read_quarantine
    from tracelake.report import RunReport

    lines = [f"data dir {settings.data_dir}"]
    holder = holder_pid(settings.data_dir)
    if holder:
        lines.append(f"a run is in progress (pid {holder})")
    latest = settings.runs_dir / "latest.json"
    report = RunReport(**json.loads(latest.read_text())) if latest.exists() else None
    if report is None:
        lines.append("no run yet")
    else:
        lines.append(f"last run started {report.started_at}, ended {report.ended_at or '-'}")
        lines.append(report.summary())
        if report.status == "running" and not holder:
            reached = ", ".join(report.stages) or "none"
            lines.append(
                f"  it did not finish (killed?); stages done: {reached}. "
                "The next run cleans up after it."
            )
    if settings.warehouse_path.exists():
        changed = datetime.fromtimestamp(settings.warehouse_path.stat().st_mtime, UTC)
        lines.append(f"warehouse {settings.warehouse_path}, published {changed:%Y-%m-%dT%H:%M:%S}Z")
    else:
        lines.append("no warehouse published yet")
    records = read_quarantine(settings.lake)
    lines.append(f"quarantine: {len(records)} file(s) in {settings.lake.uri('quarantine')}")
    for record in records[-MAX_QUARANTINE_LINES:]:
        kept = "bytes kept" if record.get("content_bytes") is not None else "reason only"
        lines.append(
            f"  {record.get('file')!r}: {record.get('reason')} "
            f"(run {record.get('run_id', '-')}, {kept})"
        )
    if len(records) > MAX_QUARANTINE_LINES:
        lines.append(f"  ... {len(records) - MAX_QUARANTINE_LINES} older record(s) not shown")
    return "\n".join(lines), report is not None


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
    _lake_argument(run)
    run.add_argument(
        "--task-runner",
        choices=("local", "dask"),
        default="local",
        help="where segment and extract run: here (TRACELAKE_WORKERS processes) or on Dask",
    )
    run.add_argument(
        "--dask-address",
        metavar="tcp://HOST:PORT",
        help="the Dask scheduler of --task-runner dask (default: a local cluster)",
    )
    run.add_argument(
        "--lake-version",
        metavar="RUN_ID",
        help="rebuild and publish the marts from the lake as that run's build read it",
    )
    run.set_defaults(func=cmd_run)
    serve = sub.add_parser("serve", help="run the pipeline on a schedule (a Prefect deployment)")
    serve.add_argument("--source", type=Path, help="folder of documents (default: seeds/)")
    serve.add_argument("--data-dir", type=Path, help="lake and warehouse folder (default: data/)")
    _lake_argument(serve)
    serve.add_argument("--cron", default=DEFAULT_CRON, help="schedule (default: hourly)")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port of the Prefect server started when PREFECT_API_URL is not set",
    )
    serve.set_defaults(func=cmd_serve)
    status = sub.add_parser("status", help="the last run, whether one is going, the quarantine")
    status.add_argument("--data-dir", type=Path)
    _lake_argument(status)
    status.set_defaults(func=cmd_status)
    maintain = sub.add_parser("maintain", help="compact the lake's small files, vacuum old ones")
    maintain.add_argument("--data-dir", type=Path)
    _lake_argument(maintain)
    maintain.add_argument(
        "--retention-hours",
        type=float,
        default=DEFAULT_RETENTION_HOURS,
        help="keep the files of versions this young, for time travel (default: 168, a week)",
    )
    maintain.add_argument("--wait", action="store_true", help="wait for a run in progress")
    maintain.set_defaults(func=cmd_maintain)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        print(f"tracelake: {error}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> NoReturn:
    """The `tracelake` command: main(), then an exit without the interpreter's teardown.

    The exit handlers run and the output is flushed as at any exit. What is left out is the
    last garbage collection over every object that Prefect, Great Expectations, pandas and
    Polars made: about 1.3 s at the end of each run, for memory the system takes back anyway.

    A worker process still about when the run is over is ended, not waited for: left to the
    exit handlers, a worker whose stop had not yet been sent (its pool's manager thread sends
    it) kept a run that had nothing to segment from ever exiting.
    """
    code = main()
    for child in multiprocessing.active_children():
        child.kill()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
