"""The command line: the served deployment and its schedule, the run lock, `status`."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracelake import cli, land, stages
from tracelake.config import PROJECT_ROOT, Settings
from tracelake.lakeio import Lake
from tracelake.report import RunReport
from tracelake.runlock import LOCK_FILE, RunLocked, holder_pid, run_lock

TRACELAKE = Path(sys.executable).parent / "tracelake"


def test_serve_deployment_is_scheduled_by_the_server(prefect_server: None, tmp_path: Path) -> None:
    """What `tracelake serve` registers: cron, parameters, a module entrypoint; and the
    server's scheduler can create its runs (it could not with SQLAlchemy 2.1)."""
    from prefect.client.orchestration import get_client

    settings = Settings.from_env(source_dir=tmp_path / "in", data_dir=tmp_path / "data")
    deployment = cli.deployment(settings, "*/5 * * * *")
    assert deployment.entrypoint == "flows.pipeline.pipeline"
    deployment_id = deployment.apply()
    now = datetime.now(UTC)
    with get_client(sync_client=True) as client:
        response = client.request(
            "POST",
            "/deployments/{id}/schedule",
            path_params={"id": deployment_id},
            json={"start_time": now.isoformat(), "end_time": (now + timedelta(hours=1)).isoformat(),
                  "min_time": 0.0, "min_runs": 3, "max_runs": 3},
        )  # fmt: skip
        assert response.status_code < 300, response.text
        runs = client.request(
            "POST",
            "/flow_runs/filter",
            # every field given: this FastAPI rejects the nulls the Prefect client sends
            json={"deployments": {"id": {"any_": [str(deployment_id)]}}, "limit": 10,
                  "offset": 0, "sort": "EXPECTED_START_TIME_ASC"},
        ).json()  # fmt: skip
    assert len(runs) == 3
    starts = [datetime.fromisoformat(run["expected_start_time"]) for run in runs]
    assert all(start.minute % 5 == 0 and start.second == 0 for start in starts)
    assert {run["state_type"] for run in runs} == {"SCHEDULED"}
    assert runs[0]["parameters"] == {
        "source_dir": str(tmp_path / "in"),
        "data_dir": str(tmp_path / "data"),
        "lake": str(tmp_path / "data" / "lake"),
    }


def test_a_second_run_on_a_locked_data_dir_stops_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with open(data / LOCK_FILE, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a run in progress holds it
        second = subprocess.run(
            [str(TRACELAKE), "run", "--source", str(tmp_path), "--data-dir", str(data)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert second.returncode == cli.EXIT_LOCKED
    assert f"another run is using {data}" in second.stderr
    assert not (data / "runs").exists()  # it touched nothing


def test_run_lock_is_reentrant_and_names_its_holder(tmp_path: Path) -> None:
    assert holder_pid(tmp_path) is None
    with run_lock(tmp_path):
        with run_lock(tmp_path):  # the flow inside `tracelake run` takes it again
            assert holder_pid(tmp_path) == os.getpid()
        assert holder_pid(tmp_path) == os.getpid()
    assert holder_pid(tmp_path) is None


def test_the_kernel_frees_the_lock_of_a_killed_run(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from tracelake.runlock import run_lock\n"
         "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(RunLocked, match=f"pid {holder.pid}"), run_lock(tmp_path):
            pass
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait()
    with run_lock(tmp_path):  # a stale lock file, but no stale lock
        assert holder_pid(tmp_path) == os.getpid()


def write_report(data: Path, **fields: object) -> RunReport:
    report = RunReport.start("20260101T000000Z-abc123", data / "in", data, "1-abc")
    for name, value in fields.items():
        setattr(report, name, value)
    report.write(data / "runs")
    return report


def test_status_shows_the_last_run_and_the_quarantine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    report = write_report(
        data,
        documents_seen=3,
        documents_landed=1,
        documents_quarantined=[{"file": "a.png", "reason": "not text: PNG image"}],
        document_problems=[{"file": "x.jsonl", "problem": "line 2: invalid JSON"}],
    )
    report.finish("succeeded")
    report.write()
    land.write_quarantine(Lake(str(data / "lake")),
                          [land.Quarantined("a.png", "not text: PNG image", "ab12", 3)],
                          {"ab12": b"PNG"}, report.run_id)  # fmt: skip
    assert cli.main(["status", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"run {report.run_id}: succeeded" in out
    assert "seen 3, landed 1" in out
    assert "problem     'x.jsonl': line 2: invalid JSON" in out
    assert "quarantine: 1 file(s)" in out
    assert f"'a.png': not text: PNG image (run {report.run_id}, bytes kept)" in out
    assert "in progress" not in out


def test_status_tells_a_killed_run_from_a_running_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    write_report(data, stages={"land": {"seconds": 1.0}})  # status "running", never finished
    assert cli.main(["status", "--data-dir", str(data)]) == 0
    assert "did not finish (killed?); stages done: land" in capsys.readouterr().out
    with run_lock(data):
        cli.main(["status", "--data-dir", str(data)])
    out = capsys.readouterr().out
    assert f"a run is in progress (pid {os.getpid()})" in out
    assert "did not finish" not in out


def test_status_without_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--data-dir", str(tmp_path)]) == 1
    assert "no run yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make_args", "env", "message"),
    [
        (lambda t: ["run", "--source", str(t / "missing"), "--data-dir", str(t / "data")], {},
         "source folder {t}/missing does not exist: give an existing folder with --source"),
        (lambda t: ["run", "--source", str(t), "--data-dir", str(t / "file.txt" / "data")], {},
         "cannot write to data dir {t}/file.txt/data (Not a directory): choose another"),
        (lambda t: ["serve", "--cron", "every hour", "--source", str(t)], {},
         "bad cron expression 'every hour': give five fields"),
        (lambda t: ["run", "--source", str(t), "--data-dir", str(t / "data")],
         {"TRACELAKE_BATCH_SIZE": "lots"},
         "a TRACELAKE_* setting is not valid: TRACELAKE_BATCH_SIZE must be a whole number"),
        (lambda t: ["run", "--source", str(t), "--data-dir", str(t / "data")],
         {"TRACELAKE_DOCS": "sometimes"},
         "a TRACELAKE_* setting is not valid: TRACELAKE_DOCS must be on or off"),
    ],
    ids=["source-missing", "data-dir-unwritable", "bad-cron", "bad-setting", "bad-switch"],
)  # fmt: skip
def test_a_usage_mistake_is_one_clear_line_and_exit_2(
    tmp_path: Path, make_args: object, env: dict, message: str
) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    done = subprocess.run(
        [str(TRACELAKE), *make_args(tmp_path)],  # type: ignore[operator]
        capture_output=True, text=True, timeout=60, check=False, env=os.environ | env,
    )  # fmt: skip
    assert done.returncode == cli.EXIT_USAGE
    assert done.stderr.startswith("tracelake: " + message.format(t=tmp_path))
    assert len(done.stderr.strip().splitlines()) == 1  # no traceback
    assert not (tmp_path / "data" / "runs").exists()


def test_a_flow_run_on_a_missing_source_is_not_retried(
    prefect_server: None, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    from flows.pipeline import pipeline

    state = pipeline(str(tmp_path / "missing"), str(tmp_path / "data"), return_state=True)
    assert state.is_failed()
    report = (tmp_path / "data" / "runs" / "latest.json").read_text()
    assert "SourceMissing: source folder" in report
    flow_run = str(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:
        runs = client.request(
            "POST",
            "/task_runs/filter",
            json={"flow_runs": {"id": {"any_": [flow_run]}}, "limit": 50, "offset": 0,
                  "sort": "EXPECTED_START_TIME_ASC"},
        ).json()  # fmt: skip
    [discover] = [run for run in runs if run["name"].startswith("discover")]
    assert discover["run_count"] == 1  # a missing folder is not a passing fault: no retry


def test_a_run_with_nothing_new_skips_the_flow(
    seeds_build: tuple[dict, Path, Path], tmp_path: Path
) -> None:
    report, seeds_source, seeds_data = seeds_build
    source, data = tmp_path / "source", tmp_path / "data"
    shutil.copytree(seeds_source, source)
    shutil.copytree(seeds_data, data)  # file times kept: the same lake as the published build
    done = subprocess.run(
        [str(TRACELAKE), "run", "--source", str(source), "--data-dir", str(data)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "published  nothing new" in done.stdout
    latest = json.loads((data / "runs" / "latest.json").read_text())
    assert latest["up_to_date"] is True and latest["status"] == "succeeded"
    assert latest["stages"]["build"]["skipped"] == f"nothing new since run {report['run_id']}"
    assert list(latest["stages"]) == ["build"]  # no flow: no land, no dbt
    assert latest["documents_present"] == report["documents_landed"]
    (source / "new.txt").write_text("Police arrested 3 smugglers at the port of Calais.\n")
    assert stages.nothing_new(Settings.from_env(source_dir=source, data_dir=data)) is None


def test_a_new_prefect_home_starts_from_the_installations_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "PREFECT_TEMPLATES", tmp_path / "templates")
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    template = cli.prefect_database_template()
    assert template is not None and template.parent == tmp_path / "templates"
    first, second = tmp_path / "one" / "prefect.db", tmp_path / "two" / "prefect.db"
    first.parent.mkdir()
    second.parent.mkdir()
    assert not cli.seed_prefect_database(first, template)  # no template yet: Prefect migrates
    server = sqlite3.connect(first)  # the first server's database, open as it answers
    server.execute("CREATE TABLE alembic_version (version_num TEXT)")
    server.execute("INSERT INTO alembic_version VALUES ('head')")
    server.commit()
    cli.keep_prefect_template(first, template)
    server.close()
    assert cli.seed_prefect_database(second, template)
    copy = sqlite3.connect(second)
    assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("head",)]
    copy.close()
    assert not cli.seed_prefect_database(second, template)  # a database in use is never replaced
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://db/prefect")
    assert cli.prefect_database_template() is None  # another database: nothing to copy


def test_the_command_ends_without_waiting_for_a_worker_left_behind(tmp_path: Path) -> None:
    # A child process that never ends (as a worker that missed its stop): multiprocessing's
    # exit handler would wait for it for ever.
    script = tmp_path / "left_behind.py"
    script.write_text(
        "import multiprocessing, time\n"
        "from tracelake import cli\n"
        "if __name__ == '__main__':\n"
        "    multiprocessing.get_context('spawn').Process(target=time.sleep, args=(600,)).start()\n"
        "    cli.main = lambda argv=None: 7\n"
        "    cli.entry()\n"
    )
    done = subprocess.run([sys.executable, str(script)], timeout=30, cwd=PROJECT_ROOT)
    assert done.returncode == 7
