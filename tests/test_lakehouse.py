"""The lake as Delta tables on a local disk and on S3 (moto's server on 127.0.0.1), runs on a
Dask cluster (a local one of two worker processes), the writer lock across machines, time
travel and maintenance."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import polars as pl
import pytest
from distributed import LocalCluster
from helpers import mart_contents

from flows.pipeline import RunFailed, pipeline
from tracelake import lakeio, lakelock, processes, stages
from tracelake.config import Settings
from tracelake.runlock import RunLocked
from tracelake.schemas import RAW_DOCUMENTS

pytestmark = pytest.mark.usefixtures("prefect_server")

TRACELAKE = Path(sys.executable).parent / "tracelake"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server (moto) on 127.0.0.1, its address and test credentials in the
    environment for the module's tests (and the runs they start)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"moto's S3 server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    try:
        with processes.environment(S3_ENV | {"AWS_ENDPOINT_URL": url}):
            yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


def _source(seeds_dir: Path, tmp_path: Path, names: list[str] | None = None) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for path in seeds_dir.iterdir():
        if path.is_file() and (names is None or path.name in names):
            shutil.copy(path, source / path.name)
    return source


@pytest.mark.slow  # in `make check`: a whole run on moto's S3 server and a Dask cluster
def test_a_run_on_s3_and_dask_publishes_the_marts_of_a_local_run(
    bucket: str,
    seeds_build: tuple[dict, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local_report, source, local_data = seeds_build
    lake = f"s3://{bucket}/tracelake"
    data = tmp_path / "data"
    monkeypatch.setenv("TRACELAKE_BATCH_SIZE", "4")  # several partitions: both workers busy
    # a cluster the run does not start, as another machine's would be
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        report = pipeline(str(source), str(data), lake=lake, task_runner="dask",
                          dask_address=cluster.scheduler_address)  # fmt: skip
        assert cluster.scheduler.task_prefixes  # the partitions ran there
    assert report["published"] is True
    assert report["lake"] == lake
    assert report["stages"]["segment_extract"]["partitions"] >= 2
    assert mart_contents(data / "warehouse.duckdb") == mart_contents(
        local_data / "warehouse.duckdb"
    )
    assert not (data / "lake").exists()  # every table went to the bucket
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("tracelake/staged/articles/_delta_log/") for k in keys)
    assert not any(k.endswith(lakelock.LOCK_KEY) for k in keys)  # the lease is released
    # a second machine reads the marts from the lake, without the DuckDB file
    facts = pl.scan_delta(f"{lake}/marts/fct_statistics").select(pl.len()).collect().item()
    assert facts == local_report["marts"]["fct_statistics"] > 0
    # and a run with nothing new finds it so from the bucket's table versions
    again = pipeline(str(source), str(data), lake=lake)
    assert again["up_to_date"] is True
    assert again["lake_versions"] == report["lake_versions"]


@pytest.mark.slow  # in `make check`: two whole runs one after the other
def test_two_runs_at_once_on_one_bucket_land_every_document_once(
    bucket: str, seeds_dir: Path, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    source = _source(seeds_dir, tmp_path, ["single_article.txt", "article_fr.txt",
                                           "press_rollup.txt"])  # fmt: skip
    lake = f"s3://{bucket}/shared"
    env = os.environ | {"PREFECT_API_URL": str(PREFECT_API_URL.value())}

    def run(machine: str) -> subprocess.CompletedProcess:
        args = [str(TRACELAKE), "run", "--source", str(source), "--lake", lake, "--wait",
                "--data-dir", str(tmp_path / machine)]  # fmt: skip
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(run, ["machine-a", "machine-b"]))
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-2000:] for d in done]
    landed = sorted(
        json.loads((tmp_path / m / "runs" / "latest.json").read_text())["documents_landed"]
        for m in ("machine-a", "machine-b")
    )
    assert landed == [0, 3]  # one run landed them; the other, after it, found them there
    raw = lakeio.scan(lakeio.Lake(lake), "raw_documents", RAW_DOCUMENTS).collect()
    assert raw.height == raw.get_column("doc_id").n_unique() == 3
    settings = Settings.from_env(source_dir=source, data_dir=tmp_path / "machine-a", lake_url=lake)
    articles = stages.staged(settings, "articles").collect()
    assert articles.height == articles.get_column("article_id").n_unique()


def test_a_run_stops_at_once_while_another_holds_the_lake(
    bucket: str, seeds_dir: Path, tmp_path: Path
) -> None:
    lake = lakeio.Lake(f"s3://{bucket}/held")
    source = _source(seeds_dir, tmp_path, ["single_article.txt"])
    with lakelock.lake_lock(lake):
        done = subprocess.run(
            [str(TRACELAKE), "run", "--source", str(source), "--data-dir",
             str(tmp_path / "data"), "--lake", lake.url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 75, done.stderr
    assert f"another run is writing to the lake {lake.url}" in done.stderr
    assert lakeio.version(lake, "raw_documents") is None  # it wrote nothing


def test_a_lease_left_by_a_killed_run_expires_and_is_taken_over(bucket: str) -> None:
    lake = lakeio.Lake(f"s3://{bucket}/stale")
    s3 = boto3.client("s3")
    key = f"stale/{lakelock.LOCK_KEY}"
    dead = {"holder": "elsewhere:1", "expires_at": time.time() - 1}
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(dead).encode())
    with lakelock.lake_lock(lake):
        record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert record["holder"] != dead["holder"]
        with pytest.raises(RunLocked):  # another process (not re-entrant) is refused
            lakelock._Lease(lake).take(wait=False)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)


@pytest.mark.slow  # in `make check`: two runs and a rebuild
def test_a_rebuild_from_an_earlier_lake_version_gives_that_runs_marts(
    seeds_build: tuple[dict, Path, Path], seeds_dir: Path, tmp_path: Path
) -> None:
    first, source, built = seeds_build
    data = tmp_path / "data"
    shutil.copytree(built, data)
    more = tmp_path / "more"
    shutil.copytree(source, more)
    (more / "late_report.txt").write_text(
        "Police arrested 41 people in a raid on a smuggling network on 3 May 2024.\n",
        encoding="utf-8",
    )
    second = pipeline(str(more), str(data))
    assert second["published"] is True
    assert mart_contents(data / "warehouse.duckdb") != mart_contents(built / "warehouse.duckdb")
    assert second["lake_versions"]["raw_documents"] > first["lake_versions"]["raw_documents"]

    rebuilt = pipeline(str(more), str(data), lake_version=first["run_id"])
    assert rebuilt["rebuilt_from"] == first["run_id"]
    assert rebuilt["lake_versions"] == first["lake_versions"]
    assert rebuilt["documents_landed"] == 0
    assert mart_contents(data / "warehouse.duckdb") == mart_contents(built / "warehouse.duckdb")

    # maintenance compacts the small files and keeps the rows; with no retention, the old
    # versions' files go and time travel to them with it
    settings = Settings.from_env(source_dir=more, data_dir=data)
    counts = stages.staged_counts(settings)
    done = lakeio.maintain(settings.lake, retention_hours=0)
    assert sum(t["files_compacted"] for t in done.values()) > 0
    assert sum(t["files_vacuumed"] for t in done.values()) > 0
    assert stages.staged_counts(settings) == counts
    raw = lakeio.scan(settings.lake, "raw_documents", RAW_DOCUMENTS).select(pl.len()).collect()
    assert raw.item() == second["documents_seen"]
    with pytest.raises(Exception, match=r"(?i)not found|no such file"):
        lakeio.scan(settings.lake, "raw_documents", RAW_DOCUMENTS, version=0).collect()


def test_maintain_from_the_command_line(tmp_path: Path, seeds_build: tuple) -> None:
    _, _, built = seeds_build
    data = tmp_path / "data"
    shutil.copytree(built, data)
    done = subprocess.run(
        [str(TRACELAKE), "maintain", "--data-dir", str(data)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "raw_documents:" in done.stdout and "articles:" in done.stdout
    bad = subprocess.run(
        [str(TRACELAKE), "maintain", "--data-dir", str(data), "--retention-hours", "-1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--retention-hours" in bad.stderr


def test_a_rebuild_from_a_run_that_is_not_recorded_fails_clearly(
    seeds_dir: Path, tmp_path: Path
) -> None:
    source = _source(seeds_dir, tmp_path, ["single_article.txt"])
    for wrong in ("20250101T000000Z-000000", "../elsewhere"):
        with pytest.raises(RunFailed, match="no report of run"):
            pipeline(str(source), str(tmp_path / "data"), lake_version=wrong)
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()
