"""Benchmark of the text stages (land, segment, extract) on a synthetic corpus.

    python -m tests.bench [--documents N]

Copies of the sample corpus with their figures and names varied, so that every document is
new to the lake; prints documents per second for each stage and the peak memory.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import tempfile
import time
from pathlib import Path

from tracelake import stages
from tracelake.config import PROJECT_ROOT, Settings


def synthesise(target: Path, documents: int, seed: int = 7) -> None:
    """Write `documents` variants of the seed files into target."""
    rng = random.Random(seed)
    seeds = sorted(p for p in (PROJECT_ROOT / "seeds").iterdir() if p.suffix in (".txt", ".html"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    for i in range(documents):
        text = re.sub(
            r"\b\d{2,3}\b", lambda m: str(int(m.group()) + rng.randint(1, 9)), texts[i % len(texts)]
        )
        suffix = seeds[i % len(seeds)].suffix
        (target / f"doc_{i:06d}{suffix}").write_text(f"{text}\nRef {i}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, data = Path(tmp) / "source", Path(tmp) / "data"
        source.mkdir()
        synthesise(source, args.documents)
        settings = Settings.from_env(source_dir=source, data_dir=data)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        paths, _ = stages.discover(settings, "bench")
        for batch in stages.chunks(paths, settings.batch_size):
            stages.land_batch(settings, batch, "bench")
        timings["land"] = time.perf_counter() - start
        pending = stages.pending_documents(settings)
        timings["segment"] = timings["extract"] = 0.0
        for doc_ids in stages.chunks(pending, settings.batch_size):
            start = time.perf_counter()
            batch = stages.segment_batch(settings, doc_ids)
            timings["segment"] += time.perf_counter() - start
            start = time.perf_counter()
            stages.extract_batch(settings, batch, doc_ids)
            timings["extract"] += time.perf_counter() - start
        counts = stages.staged_counts(settings)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"documents {args.documents}, batch size {settings.batch_size}: {counts}")
    for stage, seconds in timings.items():
        print(f"  {stage:8s} {seconds:7.2f} s  {args.documents / seconds:9.0f} documents/s")
    print(f"  peak memory {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
