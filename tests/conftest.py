"""Shared fixtures: one Prefect test server per session, kept inside a temporary data dir."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A temporary Prefect server for the flow tests (started once per session)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return ROOT / "seeds"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "eval" / "score.py").exists():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def seeds_build(
    prefect_server: None, seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, Path, Path]:
    """One flow run on a copy of seeds/: (run report, source dir, data dir). Read, never write."""
    from flows.pipeline import pipeline

    source = tmp_path_factory.mktemp("seeds-source")
    shutil.copytree(seeds_dir, source, dirs_exist_ok=True)
    data = tmp_path_factory.mktemp("seeds-data")
    return pipeline(str(source), str(data)), source, data
