"""Acceptance: `tracelake run` on the dev set, scored by ../shared/eval/score.py.

The bars only go up: raise them as the extraction improves, never lower them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BARS = {
    "article_f1": 1.0,
    "relevance_accuracy": 1.0,
    "language_accuracy": 1.0,
    "published_date_accuracy": 1.0,
    "statistics_f1": 0.97,
}
ENTITY_F1_BARS = {"agency": 1.0, "country": 0.91, "crime_type": 0.88, "operation": 1.0}


@pytest.fixture(scope="module")
def scores(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("dev")
    env = os.environ | {"PREFECT_HOME": str(data / "prefect")}
    tracelake = Path(sys.executable).parent / "tracelake"
    run = subprocess.run(
        [str(tracelake), "run", "--source", str(shared_dir / "corpus"), "--data-dir", str(data)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = data / "score.json"
    subprocess.run(
        [sys.executable, str(shared_dir / "eval" / "score.py"),
         "--warehouse", str(data / "warehouse.duckdb"),
         "--gold", str(shared_dir / "eval" / "gold" / "seeds.json"), "--json", str(out)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.read_text())


def test_articles(scores: dict) -> None:
    assert scores["articles"]["f1"] >= BARS["article_f1"], scores["segmentation_notes"]


def test_relevance_language_date(scores: dict) -> None:
    assert scores["relevance_accuracy"] >= BARS["relevance_accuracy"]
    assert scores["language_accuracy"] >= BARS["language_accuracy"]
    assert scores["published_date_accuracy"] >= BARS["published_date_accuracy"]


def test_statistics(scores: dict) -> None:
    assert scores["statistics"]["f1"] >= BARS["statistics_f1"], (
        scores["missed_statistics"],
        scores["extra_statistics"],
    )


@pytest.mark.parametrize("entity_type", sorted(ENTITY_F1_BARS))
def test_entities(scores: dict, entity_type: str) -> None:
    assert scores["entities"][entity_type]["f1"] >= ENTITY_F1_BARS[entity_type]
