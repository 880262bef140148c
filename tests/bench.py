"""Benchmark of the whole pipeline (`tracelake run`) on a corpus made for the purpose.

    python -m tests.bench [--size 1k] [--size 10k] [--size 100k] [--size 1gb] [--out DIR]

The corpus recombines the documents of seeds/, ../shared/corpus and ../shared/corpus-web in
their own formats, each copy with its figures, names and years varied, so every document is
new to the lake. For each size it runs, as a user would, `tracelake run` on the corpus (a full
run), again with nothing new, and again with 1 % more documents; and a naive baseline over the
same files (one regular-expression window per document, plain Python, one process). It writes
`<out>/bench-<size>.json` and prints a table: seconds per stage, MB/s and documents/s, peak
RSS of the run's process tree, the warehouse's size, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tracelake.config import PROJECT_ROOT

TEMPLATE_DIRS = (
    PROJECT_ROOT / "seeds",
    PROJECT_ROOT.parent / "shared" / "corpus",
    PROJECT_ROOT.parent / "shared" / "corpus-web",
)
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
GIGABYTE = 1 << 30

# What is varied in each copy: figures from 32 up (smaller numbers are often days of the
# month), years of this century, and capitalised words (names of people and places).
FIGURE = re.compile(r"(?<![\d.,])\d{2,6}(?![\d])")
YEAR = re.compile(r"\b20[0-2]\d\b")
NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{3,14}\b")
NAMES_PER_COPY = 5

# The baseline: a figure and a crime word within a few words of it, over the raw text.
BASELINE_WINDOW = re.compile(
    r"(\d[\d,.]*)\s+(?:\w+\s+){0,3}?(arrest\w*|rescu\w*|victim\w*|migrant\w*|smuggl\w*"
    r"|traffick\w*|launder\w*|detain\w*|charg\w*)",
    re.IGNORECASE,
)
TAG = re.compile(r"<[^>]+>")


@dataclass
class Template:
    suffix: str
    text: str


@dataclass
class RunMeasure:
    """One `tracelake run`: wall seconds, peak RSS of its process tree, its report's stages."""

    wall_s: float
    peak_rss_mib: float
    exit_code: int
    stages: dict[str, float] = field(default_factory=dict)
    stage_peak_rss_mib: dict[str, int | None] = field(default_factory=dict)  # the flow's process
    workers_peak_rss_mib: int | None = None  # the largest of the worker processes
    documents_landed: int = 0
    documents_processed: int = 0


def templates() -> list[Template]:
    """Every text document of the template folders, as text with its file suffix. A missing
    folder is an error: a corpus made without it would not be comparable with other benches."""
    missing = [str(folder) for folder in TEMPLATE_DIRS if not folder.is_dir()]
    if missing:
        raise SystemExit("bench: the corpus templates need " + ", ".join(missing))
    found = []
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue  # compressed and binary files are left out: they do not vary
            found.append(Template("".join(path.suffixes[-1:]) or ".txt", text))
    return found


def name_pool(items: list[Template]) -> list[str]:
    return sorted({name for item in items for name in NAME.findall(item.text)})


def vary(text: str, rng: random.Random, names: list[str]) -> str:
    """A copy of text with its figures, years and a few names changed."""
    shift = rng.randint(-6, 2)
    text = YEAR.sub(lambda m: str(min(2026, int(m.group()) + shift)), text)

    def figure(match: re.Match[str]) -> str:
        value = int(match.group())
        if value < 32 or 2000 <= value <= 2030:
            return match.group()
        return str(max(32, round(value * rng.uniform(0.5, 2.0))))

    text = FIGURE.sub(figure, text)
    own = sorted(set(NAME.findall(text)))
    if own and names:
        swap = {old: rng.choice(names) for old in rng.sample(own, min(NAMES_PER_COPY, len(own)))}
        text = NAME.sub(lambda m: swap.get(m.group(), m.group()), text)
    return text


def build_corpus(target: Path, documents: int | None, max_bytes: int | None, seed: int) -> dict:
    """Write varied copies into target until `documents` files or `max_bytes` bytes."""
    target.mkdir(parents=True, exist_ok=True)
    items = templates()
    names = name_pool(items)
    rng = random.Random(seed)
    seen: set[str] = set()
    count = written = attempts = 0
    while (documents is None or count < documents) and (max_bytes is None or written < max_bytes):
        item = items[attempts % len(items)]
        attempts += 1
        data = vary(item.text, rng, names).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            if attempts > 20 * (count + len(items)):
                raise RuntimeError("the templates give too few distinct copies")
            continue
        seen.add(digest)
        (target / f"doc-{seed}-{count:07d}{item.suffix}").write_bytes(data)
        count, written = count + 1, written + len(data)
    return {"documents": count, "bytes": written}


def baseline(folder: Path) -> dict:
    """The naive extractor: each file read whole, tags dropped, one regex over it."""
    started = time.perf_counter()
    files = figures = size = 0
    for path in sorted(folder.iterdir()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        size += len(text)
        figures += sum(1 for _ in BASELINE_WINDOW.finditer(TAG.sub(" ", text)))
        files += 1
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "documents": files, "figures": figures}


DEFAULT_WORKERS = os.cpu_count() or 1


@dataclass
class Setup:
    """Where the lake lives and what runs segment and extract."""

    lake: str = "local"  # local | s3 (moto's S3 server on 127.0.0.1, started by the bench)
    workers: int = field(default_factory=lambda: DEFAULT_WORKERS)  # tracelake's default
    task_runner: str = "local"  # local | dask

    @property
    def name(self) -> str:
        parts = [f"{self.lake} lake", f"{self.workers} worker(s)"]
        return ", ".join(parts + (["dask"] if self.task_runner == "dask" else []))

    @property
    def suffix(self) -> str:
        parts = [] if self.lake == "local" else [self.lake]
        parts += [] if self.workers == DEFAULT_WORKERS else [f"w{self.workers}"]
        parts += [] if self.task_runner == "local" else [self.task_runner]
        return "".join(f"-{p}" for p in parts)


@contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    """moto's S3 server on a free port of 127.0.0.1 and a bucket: the environment to reach it."""
    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ALLOW_HTTP": "true",
           "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_REGION": "us-east-1"}  # fmt: skip
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{env['AWS_ENDPOINT_URL']}/moto-api/", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        client.create_bucket(Bucket="bench")
        yield env
    finally:
        server.terminate()
        server.wait()


def run_pipeline(
    source: Path, data: Path, setup: Setup | None = None, env: dict[str, str] | None = None
) -> RunMeasure:
    """`tracelake run` as a user starts it; the peak RSS is that of the largest process of its
    tree (the flow's, dbt's or a worker's)."""
    setup = setup or Setup()
    exe = Path(sys.executable).parent / "tracelake"
    args = [str(exe), "run", "--source", str(source), "--data-dir", str(data),
            "--task-runner", setup.task_runner]  # fmt: skip
    if setup.lake == "s3":
        args += ["--lake", f"s3://bench/{data.parent.name}"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | (env or {}) | {"TRACELAKE_WORKERS": str(setup.workers)},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    measure = RunMeasure(
        wall_s=round(time.perf_counter() - started, 2),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),
        exit_code=os.waitstatus_to_exitcode(status),
    )
    latest = data / "runs" / "latest.json"
    if latest.exists():
        report = json.loads(latest.read_text())
        measure.stages = {name: stage["seconds"] for name, stage in report["stages"].items()}
        measure.stage_peak_rss_mib = {
            name: stage.get("peak_rss_mib") for name, stage in report["stages"].items()
        }
        # worker processes are not waited for one by one: their peaks come from the report
        in_workers = [s["workers_peak_rss_mib"] for s in report["stages"].values()
                      if s.get("workers_peak_rss_mib")]  # fmt: skip
        measure.workers_peak_rss_mib = max(in_workers, default=None)
        measure.peak_rss_mib = max([measure.peak_rss_mib, *in_workers])
        measure.documents_landed = report.get("documents_landed", 0)
        measure.documents_processed = report.get("documents_processed", 0)
    return measure


def bench(size: str, out: Path, keep: bool, setup: Setup | None = None) -> dict:
    documents = SIZES.get(size)
    max_bytes = GIGABYTE if size == "1gb" else None
    if documents is None and max_bytes is None:
        raise SystemExit(f"unknown size {size!r}: one of {', '.join([*SIZES, '1gb'])}")
    setup = setup or Setup()
    work = out / f"work-{size}{setup.suffix}"
    shutil.rmtree(work, ignore_errors=True)
    source, data, extra = work / "source", work / "data", work / "extra"
    corpus = build_corpus(source, documents, max_bytes, seed=7)
    base = baseline(source)
    with s3_server() if setup.lake == "s3" else nullcontext({}) as env:
        full = run_pipeline(source, data, setup, env)
        again = run_pipeline(source, data, setup, env)
        added = build_corpus(extra, max(1, corpus["documents"] // 100), None, seed=8)
        for path in extra.iterdir():
            path.rename(source / path.name)
        one_percent = run_pipeline(source, data, setup, env)
    warehouse = data / "warehouse.duckdb"
    megabytes = corpus["bytes"] / 1e6
    text_s = full.stages.get("segment_extract", 0.0)
    result = {
        "size": size,
        "setup": asdict(setup) | {"name": setup.name},
        "documents": corpus["documents"],
        "megabytes": round(megabytes, 2),
        "cpus": os.cpu_count(),
        "full": asdict(full),
        "nothing_new": asdict(again),
        "one_percent_new": asdict(one_percent) | {"documents_added": added["documents"]},
        "baseline": base,
        "derived": {
            "end_to_end_mb_s": round(megabytes / full.wall_s, 3),
            "end_to_end_documents_s": round(corpus["documents"] / full.wall_s, 1),
            "segment_extract_mb_s": round(megabytes / text_s, 3) if text_s else None,
            "land_documents_s": round(corpus["documents"] / full.stages["land"], 1)
            if full.stages.get("land")
            else None,
            "baseline_mb_s": round(megabytes / base["seconds"], 3),
            "ratio_to_baseline": round(full.wall_s / base["seconds"], 1),
            "warehouse_mib": round(warehouse.stat().st_size / 2**20, 1)
            if warehouse.exists()
            else None,
            "one_percent_share_of_full": round(one_percent.wall_s / full.wall_s, 3),
        },
    }
    (out / f"bench-{size}{setup.suffix}.json").write_text(json.dumps(result, indent=2))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    """The results as a Markdown table, one row per size."""
    head = ("size", "setup", "docs", "MB", "wall s", "land s", "seg+extract s", "seg+extract MB/s",
            "match s", "dbt build s", "dbt docs s", "validate s", "peak RSS MiB",
            "warehouse MiB", "baseline s", "x baseline", "nothing new s", "1 % new s")  # fmt: skip
    rows = []
    for r in results:
        full, stages, derived = r["full"], r["full"]["stages"], r["derived"]
        validate_s = stages.get("validate_lake", 0) + stages.get("validate_marts", 0)
        rows.append((
            r["size"], r.get("setup", {}).get("name", ""), r["documents"], r["megabytes"],
            full["wall_s"], stages.get("land"),
            stages.get("segment_extract"), derived["segment_extract_mb_s"],
            stages.get("match_incidents"), stages.get("dbt_build"), stages.get("dbt_docs"),
            round(validate_s, 2), full["peak_rss_mib"], derived["warehouse_mib"],
            r["baseline"]["seconds"], derived["ratio_to_baseline"],
            r["nothing_new"]["wall_s"], r["one_percent_new"]["wall_s"],
        ))  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", choices=[*SIZES, "1gb"])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "bench")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and the data dir")
    parser.add_argument(
        "--lake",
        choices=("local", "s3"),
        default="local",
        help="the lake on local disk or on S3 (moto's server on 127.0.0.1)",
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="TRACELAKE_WORKERS (one per core)"
    )
    parser.add_argument("--task-runner", choices=("local", "dask"), default="local")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    setup = Setup(args.lake, args.workers, args.task_runner)
    results = []
    for size in args.size or ["1k"]:
        results.append(bench(size, args.out, args.keep, setup))
        print(f"{size}: {json.dumps(results[-1]['derived'])}", flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
