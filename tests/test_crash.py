"""Runs killed with SIGKILL, or stopped with SIGTERM or SIGINT, at every stage: the
published warehouse stays as it was and readable, and the next run completes with the
warehouse an uninterrupted run builds. A stopped run also ends by itself, with a non-zero
exit, no process of its own left, the lock released and a report that says where it stopped.

Each kill point is reached by a real `tracelake run` in a subprocess: land, segment and
extract stop after their first batch, validate after the marts are validated and publish
between its two renames (tracelake.crashpoints, TRACELAKE_TEST_PAUSE_AT); dbt is killed while
it writes the build, found by polling. Two chains of runs go side by side, each on a data dir
that starts with the sample corpus's published warehouse and an empty lake:
    land -> segment -> extract -> dbt -> (complete)     validate -> publish -> (complete)
so every run after a kill also starts from what the kill left. Run them alone with
`pytest -m crash`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from helpers import mart_contents

from tracelake.crashpoints import MARKER, PAUSE_AT
from tracelake.runlock import holder_pid

pytestmark = [pytest.mark.crash, pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

TRACELAKE = Path(sys.executable).parent / "tracelake"
CHAINS = (("land", "segment", "extract", "dbt"), ("validate", "publish"))
KILL_POINTS = [point for chain in CHAINS for point in chain]
BATCH_SIZE = 3  # several batches per stage, so a kill can fall between two of them
RUN_TIMEOUT = 300
STOP_POINTS = ("land", "segment", "extract", "match", "dbt", "validate", "publish")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_TIMEOUT = 30  # a guard against a hang; runs end in a few seconds (README)
# The stage a run stopped at each point names in its report.
STOPPED_IN = {"land": "land", "segment": "segment_extract", "extract": "segment_extract",
              "match": "match_incidents", "dbt": "dbt_build", "validate": "validate_marts",
              "publish": "publish"}  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Kill:
    """What one killed run left behind."""

    point: str
    warehouse_unchanged: bool
    warehouse_readable: bool
    lock_free: bool
    report: dict
    left: list[str] = field(default_factory=list)  # files that show where the kill fell


@dataclass
class Chain:
    kills: list[Kill]
    final: subprocess.CompletedProcess
    data: Path


@dataclass
class Stop:
    """What one run stopped by a signal did."""

    point: str
    signum: int
    ended: bool  # by itself, before STOP_TIMEOUT
    returncode: int | None
    seconds: float
    children_left: bool
    warehouse_unchanged: bool
    lock_free: bool
    report: dict


class Runner:
    """Starts `tracelake run` on one data dir, against the test session's Prefect server."""

    def __init__(self, source: Path, data: Path, api_url: str) -> None:
        self.source, self.data = source, data
        self.env = os.environ | {
            "PREFECT_API_URL": api_url,
            "TRACELAKE_BATCH_SIZE": str(BATCH_SIZE),
        }

    def args(self) -> list[str]:
        return [str(TRACELAKE), "run", "--source", str(self.source), "--data-dir", str(self.data)]

    def complete(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.args(), env=self.env, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )

    def start_until(self, point: str, name: str) -> subprocess.Popen:
        """Start a run in its own process group and return once it has reached point."""
        marker = self.data.parent / f"{self.data.name}-{name}-{point}"
        previous = self.latest().get("run_id")
        env = self.env | {PAUSE_AT: point, MARKER: str(marker)}
        log = self.data.parent / f"{self.data.name}-{name}-{point}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                self.args(), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            deadline = time.monotonic() + RUN_TIMEOUT
            while not self.reached(point, marker, previous):
                assert proc.poll() is None, f"run ended before {point}:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"run never reached {point}"
                time.sleep(0.05)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        return proc

    def kill_at(self, point: str) -> None:
        """Start a run, SIGKILL its whole process group (dbt too) once it reaches point."""
        proc = self.start_until(point, "killed")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_at(self, point: str, signum: int, published: str) -> Stop:
        """Start a run, send it signum once it reaches point, and see how it ends; a run that
        does not end by itself within STOP_TIMEOUT is killed (the test never hangs)."""
        proc = self.start_until(point, "stopped")
        try:
            sent = time.monotonic()
            proc.send_signal(signum)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
                ended = True
            except subprocess.TimeoutExpired:
                ended = False
            seconds = time.monotonic() - sent
            left = _group_alive(proc.pid)
        finally:
            if proc.poll() is None or _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return Stop(
            point=point,
            signum=signum,
            ended=ended,
            returncode=proc.returncode if ended else None,
            seconds=round(seconds, 1),
            children_left=left,
            warehouse_unchanged=digest(self.data / "warehouse.duckdb") == published,
            lock_free=holder_pid(self.data) is None,
            report=self.latest(),
        )

    def reached(self, point: str, marker: Path, previous: str | None) -> bool:
        if point != "dbt":
            return marker.exists()
        # dbt: its build file is open and the report says the lake was validated, not built
        latest = self.latest()
        return (
            latest.get("run_id") != previous
            and "validate_lake" in latest.get("stages", {})
            and (self.data / "build" / "warehouse_next.duckdb").exists()
        )

    def latest(self) -> dict:
        path = self.data / "runs" / "latest.json"
        try:
            return json.loads(path.read_text()) if path.exists() else {}
        except ValueError:  # never half-written (os.replace), but be safe while polling
            return {}


def _group_alive(pgid: int, grace: float = 5.0) -> bool:
    """Whether any process of the group is left after a grace period (dbt ending)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)


def telltales(data: Path) -> list[str]:
    """The files that show what stage a killed run was in."""
    patterns = ["build/warehouse_next.duckdb", ".warehouse.duckdb.incoming",
                "lake/staged/*/*/part-*.parquet",
                "lake/raw/documents/*/part-*.parquet"]  # fmt: skip
    return sorted(str(p.relative_to(data)) for pattern in patterns for p in data.glob(pattern))


def run_chain(points: tuple[str, ...], runner: Runner, published: str) -> Chain:
    kills = []
    warehouse = runner.data / "warehouse.duckdb"
    for point in points:
        runner.kill_at(point)
        try:
            with duckdb.connect(str(warehouse), read_only=True) as con:
                readable = con.execute("select count(*) from marts.dim_documents").fetchone()[0]
        except duckdb.Error:
            readable = 0
        kills.append(
            Kill(
                point=point,
                warehouse_unchanged=digest(warehouse) == published,
                warehouse_readable=readable > 0,
                lock_free=holder_pid(runner.data) is None,
                report=runner.latest(),
                left=telltales(runner.data),
            )
        )
    return Chain(kills=kills, final=runner.complete(), data=runner.data)


def in_parallel(
    work: object, chains: tuple, seeds_build: tuple[dict, Path, Path], folders: list[Path]
) -> list:
    """Run work(chain, runner, published digest) for each chain side by side, each on a data
    dir (of folders) that starts with the sample corpus's published warehouse and no lake."""
    from prefect.settings import PREFECT_API_URL

    _, source, seeds_data = seeds_build
    published = seeds_data / "warehouse.duckdb"
    runners = []
    for data in folders:
        data.mkdir()
        shutil.copy(published, data / "warehouse.duckdb")  # the last published warehouse
        runners.append(Runner(source, data, str(PREFECT_API_URL.value())))
    with ThreadPoolExecutor(len(chains)) as pool:
        return list(pool.map(work, chains, runners, [digest(published)] * len(chains)))


@pytest.fixture(scope="module")
def chains(
    seeds_build: tuple[dict, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Chain]:
    folders = [tmp_path_factory.mktemp("crash") / f"data-{i}" for i in range(len(CHAINS))]
    done = in_parallel(run_chain, CHAINS, seeds_build, folders)
    return {point: chain for chain in done for point in [kill.point for kill in chain.kills]}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_run_leaves_the_published_warehouse(chains: dict[str, Chain], point: str) -> None:
    [kill] = [k for k in chains[point].kills if k.point == point]
    assert kill.warehouse_unchanged
    assert kill.warehouse_readable
    assert kill.lock_free  # the kernel released the dead run's flock
    assert kill.report["status"] == "running"  # it was killed, not failed
    if point == "land":  # the first batch of files landed, nothing segmented yet
        assert [p for p in kill.left if p.startswith("lake/raw/")]
        assert not [p for p in kill.left if p.startswith("lake/staged/")]
    if point == "segment":  # articles of a batch, not yet in the ledger
        assert [p for p in kill.left if p.startswith("lake/staged/articles/")]
        assert not [p for p in kill.left if p.startswith("lake/staged/processed/")]
    if point == "extract":  # one batch recorded, more to do
        assert [p for p in kill.left if p.startswith("lake/staged/processed/")]
    if point == "dbt":  # killed while dbt wrote the build
        assert "dbt_build" not in kill.report["stages"]
        assert "build/warehouse_next.duckdb" in kill.left
    if point == "validate":
        assert "build/warehouse_next.duckdb" in kill.left
        assert "publish" not in kill.report["stages"]
    if point == "publish":  # between the move beside the warehouse and the final rename
        assert ".warehouse.duckdb.incoming" in kill.left


@pytest.mark.parametrize("chain", [chain[-1] for chain in CHAINS])
def test_the_next_run_completes_with_the_uninterrupted_warehouse(
    chains: dict[str, Chain], seeds_build: tuple[dict, Path, Path], chain: str
) -> None:
    final, data = chains[chain].final, chains[chain].data
    assert final.returncode == 0, final.stdout + final.stderr
    report = json.loads((data / "runs" / "latest.json").read_text())
    assert report["status"] == "succeeded"
    assert report["published"] is True
    _, _, seeds_data = seeds_build
    assert mart_contents(data / "warehouse.duckdb") == mart_contents(
        seeds_data / "warehouse.duckdb"
    )
    leftovers = [*data.rglob(".*.tmp"), *data.glob("build/warehouse_*"),
                 *data.glob(".*.incoming")]  # fmt: skip
    assert leftovers == []


@dataclass
class StopChain:
    stops: list[Stop]
    final: subprocess.CompletedProcess
    data: Path


def run_stop_chain(signum: int, runner: Runner, published: str) -> StopChain:
    stops = [runner.stop_at(point, signum, published) for point in STOP_POINTS]
    return StopChain(stops=stops, final=runner.complete(), data=runner.data)


@pytest.fixture(scope="module")
def stop_chains(
    seeds_build: tuple[dict, Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[int, StopChain]:
    folders = [tmp_path_factory.mktemp("stop") / f"data-{signal.Signals(signum).name}"
               for signum in STOP_SIGNALS]  # fmt: skip
    done = in_parallel(run_stop_chain, STOP_SIGNALS, seeds_build, folders)
    return dict(zip(STOP_SIGNALS, done, strict=True))


@pytest.mark.parametrize("point", STOP_POINTS)
@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_stopped_run_ends_cleanly_and_says_where(
    stop_chains: dict[int, StopChain], signum: int, point: str
) -> None:
    [stop] = [s for s in stop_chains[signum].stops if s.point == point]
    assert stop.ended, f"still running {STOP_TIMEOUT}s after {signal.Signals(signum).name}"
    assert stop.returncode == 128 + signum
    assert not stop.children_left  # no dbt, no server of its own
    assert stop.warehouse_unchanged
    assert stop.lock_free
    assert stop.report["status"] == "stopped"
    name = signal.Signals(signum).name
    assert stop.report["error"] == f"stopped by {name} in {STOPPED_IN[point]}"


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_the_run_after_stops_completes_with_the_uninterrupted_warehouse(
    stop_chains: dict[int, StopChain], seeds_build: tuple[dict, Path, Path], signum: int
) -> None:
    final, data = stop_chains[signum].final, stop_chains[signum].data
    assert final.returncode == 0, final.stdout + final.stderr
    _, _, seeds_data = seeds_build
    assert mart_contents(data / "warehouse.duckdb") == mart_contents(
        seeds_data / "warehouse.duckdb"
    )
