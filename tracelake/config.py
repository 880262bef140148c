"""One typed settings object, read from the environment (TRACELAKE_*) or given explicitly."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from tracelake.lake import Lake

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Bump when segment or extract changes what they produce in a way their source does not show
# (a library upgrade): every document is then reprocessed.
EXTRACTOR_CODE_VERSION = "2"
# What the extractor's output depends on: its code and the reference lists it reads. Any edit
# to one of them gives a new extractor version, so a stale lake is never mistaken for current.
EXTRACTOR_FILES = (
    "tracelake/read.py",
    "tracelake/dates.py",
    "tracelake/segment.py",
    "tracelake/extract.py",
    "tracelake/reference.py",
    "dbt/seeds/agencies.csv",
    "dbt/seeds/country_aliases.csv",
    "tracelake/rules/field_map.csv",
    "tracelake/rules/crime_terms.csv",
    "tracelake/rules/enforcement_terms.csv",
    "tracelake/rules/agency_patterns.csv",
    "tracelake/rules/qualifiers.csv",
    "tracelake/rules/number_words.csv",
    "tracelake/rules/quantities.csv",
    "tracelake/rules/currencies.csv",
    "tracelake/rules/noun_stops.csv",
    "tracelake/rules/noun_classes.csv",
    "tracelake/rules/verb_classes.csv",
    "tracelake/rules/metric_decisions.csv",
    "tracelake/vocab.py",
    "tracelake/wordmatch.py",
)


def extractor_version() -> str:
    """The code version plus a short hash of the extractor's files, e.g. `2-3fa2c9d1`."""
    digest = hashlib.sha256()
    for name in EXTRACTOR_FILES:
        path = PROJECT_ROOT / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    return f"{EXTRACTOR_CODE_VERSION}-{digest.hexdigest()[:8]}"


def folder_digest(folder: Path) -> str:
    """sha256 of a project folder's files (names and bytes), leaving out hidden files and
    dbt's `target/` and `logs/`: it changes exactly when a file in it does."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p in {"target", "logs"} or p.startswith(".") for p in parts):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {value!r}")
    return number


def _count(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number, 0 or above, not {value!r}")
    return int(value)


def _switch(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{name} must be on or off (1/0, true/false, yes/no), not {value!r}")
    return word in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Where the lake lives, what it reads, and the limits it applies."""

    source_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "seeds")
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data")
    max_file_bytes: int = 20 * 1024 * 1024
    batch_size: int = 2000
    # Processes that segment and extract partitions side by side, each with its share of the
    # cores for Polars and the language detector (tracelake/workers.py): one per core. On 2
    # cores two took 11.0 s over 2,000 bench documents where one process with both cores
    # took 13.3 s. 1: all in the flow's process.
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Processes that read the files of a batch side by side while landing (pure Python: one
    # per core pays; 2,000 bench files took 12.5 s on two where one took 25 s). The flow's
    # process writes the lake.
    land_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    extractor_version: str = field(default_factory=extractor_version)
    # Where the lake's Delta tables live: a local folder or an object-store URL
    # (s3://bucket/prefix); empty means <data_dir>/lake.
    lake_url: str = ""
    dbt_project_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "dbt")
    expectations_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "expectations")
    # Whether a run whose dbt project changed generates the docs site again (4 to 5 s of dbt).
    docs: bool = True
    # From how many documents in the lake a run validates in a process of its own, which gives
    # its memory back as it ends: the flow's process kept what match and the lake's validation
    # had held (1,346 MiB in validating the marts at 100,000 documents). Below it, starting
    # that process and importing Great Expectations there (3 s of CPU) cost more than they
    # save. 0: always.
    validate_apart: int = 20_000

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from TRACELAKE_* variables; explicit overrides (not None) win."""
        env = os.environ
        values: dict[str, object] = {}
        if "TRACELAKE_SOURCE_DIR" in env:
            values["source_dir"] = Path(env["TRACELAKE_SOURCE_DIR"])
        if "TRACELAKE_DATA_DIR" in env:
            values["data_dir"] = Path(env["TRACELAKE_DATA_DIR"])
        for name, key in (("TRACELAKE_MAX_FILE_BYTES", "max_file_bytes"),
                          ("TRACELAKE_BATCH_SIZE", "batch_size"),
                          ("TRACELAKE_WORKERS", "workers"),
                          ("TRACELAKE_LAND_WORKERS", "land_workers")):  # fmt: skip
            if name in env:
                values[key] = _positive_int(name, env[name])
        if "TRACELAKE_LAKE_URL" in env:
            values["lake_url"] = env["TRACELAKE_LAKE_URL"]
        if "TRACELAKE_EXPECTATIONS_DIR" in env:
            values["expectations_dir"] = Path(env["TRACELAKE_EXPECTATIONS_DIR"])
        if "TRACELAKE_DOCS" in env:
            values["docs"] = _switch("TRACELAKE_DOCS", env["TRACELAKE_DOCS"])
        if "TRACELAKE_VALIDATE_APART" in env:
            values["validate_apart"] = _count(
                "TRACELAKE_VALIDATE_APART", env["TRACELAKE_VALIDATE_APART"]
            )
        if "TRACELAKE_DBT_PROJECT_DIR" in env:
            values["dbt_project_dir"] = Path(env["TRACELAKE_DBT_PROJECT_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("source_dir", "data_dir", "dbt_project_dir", "expectations_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser().resolve()  # type: ignore[arg-type]
        url = str(values.get("lake_url") or "")
        if url and "://" not in url:  # a local folder: absolute, like the other paths
            values["lake_url"] = str(Path(url).expanduser().resolve())
        return cls(**values)  # type: ignore[arg-type]

    @property
    def lake(self) -> Lake:
        """The lake's tables (tracelake/lakeio.py)."""
        return Lake(self.lake_url or str(self.data_dir / "lake"))

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def build_dir(self) -> Path:
        return self.data_dir / "build"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def marts_dir(self) -> Path:
        return self.data_dir / "marts"

    @property
    def site_dir(self) -> Path:
        """Static pages for people: dbt docs in site/dbt, validation pages in site/gx."""
        return self.data_dir / "site"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"
