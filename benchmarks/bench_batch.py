"""Batch benchmark (issue 6): the full batch job on 1,000,000 posts, DuckDB against Spark.

The posts are landed once, in a child process, into a temporary local lake in the S3 sink's
layout (``benchmarks._lake_data``: 1,000-record JSON objects per kind, straight from the
synthetic generator; the landing time is reported). Then each engine runs the whole job -
``pinpipe.batch.run_batch``: read the raw objects, clean, write the curated tables, run the
queries, write the results - in a child process of its own, one after the other (each in a lake
of its own whose raw objects are hard links to the landed ones), so that:

* its wall time counts everything the job does, Spark's session (JVM) start included;
* its peak RSS is its own: the Python process's (``ru_maxrss``) and, apart, its child
  processes' - Spark's driver JVM and anything it starts - read as VmHWM from ``/proc`` (sampled
  every 0.5 s while the job runs, so a process that ends early still counts, and once more
  after it). The total adds the two peaks: an upper bound, as they need not coincide.

Targets: DuckDB ≥ 10× faster than Spark, and DuckDB ≤ 60 s. The stage breakdown each job
reports (``BatchReport.stage_seconds``) is printed per engine.

    python -m benchmarks.bench_batch [--posts 1000000] [--engines duckdb,spark] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._harness import Metric, peak_rss_mib, report, run_child

TARGET_SPEEDUP = 10
TARGET_DUCKDB_SECONDS = 60
QUICK_POSTS = 10_000
ENGINES = ("duckdb", "spark")
UID = "be0c4a000001"
SAMPLE_INTERVAL_S = 0.5


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children …), from ``/proc``."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found += children
            todo += children
    return found


def vm_hwm_mib(pid: int) -> float | None:
    """The peak resident set (VmHWM) of ``pid``; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


class ChildPeaks:
    """Samples the VmHWM of this process's descendants in a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="child-peaks", daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.sample()

    def sample(self) -> None:
        for pid in descendants(self.pid):
            peak = vm_hwm_mib(pid)
            if peak is not None:
                self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))

    @property
    def peak_mib(self) -> float:
        """The largest peak among them (Spark's driver JVM: the launcher JVM before it is
        small and gone by then)."""
        return max(self.peaks.values(), default=0.0)


def work_land(directory: Path, posts: int) -> dict[str, Any]:
    from benchmarks._lake_data import land_posts

    lake = directory / "lake"
    started = time.perf_counter()
    records = land_posts(lake, posts, user_id=UID)
    seconds = time.perf_counter() - started
    files = [p for p in lake.rglob("*.json") if p.is_file()]
    return {
        "records": records,
        "seconds": seconds,
        "objects": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "peak_rss_mib": peak_rss_mib(),
    }


def work_batch(directory: Path, engine: str) -> dict[str, Any]:
    from pinpipe.batch import run_batch
    from pinpipe.config import load_settings

    settings = load_settings(
        None,
        home=str(directory / f"home-{engine}"),
        lake_url=str(directory / f"lake-{engine}"),
        user_id=UID,
        engine=engine,
    )
    with ChildPeaks(os.getpid()) as children:
        started = time.perf_counter()
        job = run_batch(settings)
        seconds = time.perf_counter() - started
    return {
        "engine": job.engine,
        "seconds": seconds,
        "job_seconds": job.seconds,
        "stage_seconds": dict(job.stage_seconds),
        "rows_read": dict(job.rows_read),
        "peak_rss_mib": peak_rss_mib(),
        "children_peak_rss_mib": children.peak_mib,
    }


def _child(work: str, directory: Path, *extra: str) -> dict[str, Any]:
    return run_child("benchmarks.bench_batch", "--work", work, "--dir", str(directory), *extra)


def _print_job(job: dict[str, Any]) -> None:
    stages = ", ".join(f"{name} {s:.1f}" for name, s in job["stage_seconds"].items())
    rows = ", ".join(f"{kind} {n:,}" for kind, n in job["rows_read"].items())
    print(
        f"{job['engine']}: {job['seconds']:.1f} s wall ({job['job_seconds']:.1f} s reported by"
        f" the job); stages (s): {stages}; rows read: {rows}; peak RSS Python"
        f" {job['peak_rss_mib']:,.0f} MiB + child processes"
        f" {job['children_peak_rss_mib']:,.0f} MiB"
    )


def run(posts: int, engines: Sequence[str] = ENGINES) -> list[Metric]:
    with tempfile.TemporaryDirectory() as tmp:
        landed = _child("land", Path(tmp), "--posts", str(posts))
        records = sum(landed["records"].values())
        print(
            f"landed {posts:,} posts ({records:,} records) in {landed['seconds']:.1f} s:"
            f" {landed['objects']:,} objects, {landed['bytes'] / 2**20:,.0f} MiB"
        )
        jobs = {}
        for engine in engines:
            # Each job writes its outputs into a lake of its own: hard links to the same objects.
            shutil.copytree(Path(tmp) / "lake", Path(tmp) / f"lake-{engine}", copy_function=os.link)
            jobs[engine] = _child("batch", Path(tmp), "--engine", engine)
    for job in jobs.values():
        _print_job(job)
    metrics = [
        Metric(
            f"landing {posts:,} posts in the lake", landed["seconds"], "s", higher_is_better=False
        )
    ]
    for engine, job in jobs.items():
        python, children = job["peak_rss_mib"], job["children_peak_rss_mib"]
        metrics += [
            Metric(
                f"{engine} full batch ({posts:,} posts)",
                job["seconds"],
                "s",
                target=TARGET_DUCKDB_SECONDS if engine == "duckdb" else None,
                higher_is_better=False,
            ),
            Metric(f"{engine} posts/s", posts / job["seconds"], "posts/s"),
            Metric(f"{engine} peak RSS, Python", python, "MiB", higher_is_better=False),
        ]
        if engine == "spark":
            metrics += [
                Metric("spark peak RSS, JVM", children, "MiB", higher_is_better=False),
                Metric(
                    "spark peak RSS, Python + JVM", python + children, "MiB", higher_is_better=False
                ),
            ]
    if "duckdb" in jobs and "spark" in jobs:
        metrics.append(
            Metric(
                "duckdb_vs_spark speed-up (Spark s / DuckDB s)",
                jobs["spark"]["seconds"] / jobs["duckdb"]["seconds"],
                "×",
                target=TARGET_SPEEDUP,
            )
        )
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, in order")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS:,} posts")
    parser.add_argument("--work", choices=["land", "batch"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--engine", choices=ENGINES)
    args = parser.parse_args()
    if args.work:
        if args.work == "land":
            result = work_land(args.dir, args.posts)
        else:
            result = work_batch(args.dir, args.engine)
        print(json.dumps(result))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines {', '.join(unknown)}; use {', '.join(ENGINES)}")
    posts = QUICK_POSTS if args.quick else args.posts
    report("batch job, DuckDB and Spark", run(posts, engines), "batch.json")


if __name__ == "__main__":
    main()
