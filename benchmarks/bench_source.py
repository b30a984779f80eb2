"""Source database benchmark: the synthetic generator and ``source init`` at 2,000,000 rows.

Each measurement runs in its own child process so its peak RSS is its own. Memory flatness is
shown by sampling the RSS at each quarter of the run: a flat generator's last sample is within a
few MiB of its first.

    python -m benchmarks.bench_source [--rows 2000000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Metric, peak_rss_mib, report, rss_mib, run_child

TARGET_ROWS_PER_S = 100_000


def _quarters(rows: int) -> list[int]:
    return [rows * q // 4 for q in (1, 2, 3, 4)]


def work_generate(rows: int) -> dict[str, object]:
    from pinpipe.source import generate

    marks, samples, done = _quarters(rows), [], 0
    started = time.perf_counter()
    for batch in generate(rows, seed=0):
        done += len(batch.pins)
        while marks and done >= marks[0]:
            samples.append(round(rss_mib(), 1))
            marks.pop(0)
    seconds = time.perf_counter() - started
    return {"rows": done, "seconds": seconds, "peak_rss_mib": peak_rss_mib(), "rss": samples}


def work_init(rows: int) -> dict[str, object]:
    from pinpipe.source import init_source

    marks, samples, done = _quarters(rows), [], 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        while marks and done >= marks[0]:
            samples.append(round(rss_mib(), 1))
            marks.pop(0)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'source.db'}"
        info = init_source(url, rows=rows, on_progress=progress)
        size = (Path(tmp) / "source.db").stat().st_size
    return {
        "rows": done,
        "seconds": info.seconds,
        "peak_rss_mib": peak_rss_mib(),
        "rss": samples,
        "db_mib": size / 2**20,
    }


def run(rows: int) -> list[Metric]:
    gen = run_child("benchmarks.bench_source", "--work", "generate", "--rows", str(rows))
    init = run_child("benchmarks.bench_source", "--work", "init", "--rows", str(rows))
    gen_rate = gen["rows"] / gen["seconds"]
    init_rate = init["rows"] / init["seconds"]
    growth = [s - gen["rss"][0] for s in gen["rss"]]
    print(f"generator RSS at each quarter (MiB): {gen['rss']}; init: {init['rss']}")
    print(f"SQLite file: {init['db_mib']:.0f} MiB for {rows:,} posts (3 tables)")
    return [
        Metric(f"generator rows/s ({rows:,} posts)", gen_rate, "rows/s", target=TARGET_ROWS_PER_S),
        Metric("generator peak RSS", gen["peak_rss_mib"], "MiB", higher_is_better=False),
        Metric(
            "generator RSS growth, first→last quarter",
            growth[-1],
            "MiB",
            target=32,
            higher_is_better=False,
        ),
        Metric(
            f"source init rows/s into SQLite ({rows:,})",
            init_rate,
            "rows/s",
            baseline=gen_rate,
            baseline_name="generator alone",
        ),
        Metric("source init peak RSS", init["peak_rss_mib"], "MiB", higher_is_better=False),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--work", choices=["generate", "init"])
    args = parser.parse_args()
    if args.work:
        work = work_generate if args.work == "generate" else work_init
        print(json.dumps(work(args.rows)))
        return
    report("source database", run(args.rows), "source.json")


if __name__ == "__main__":
    main()
