"""``./dev bench [--quick]``: every benchmark in one go; each prints its table and writes
benchmarks/results/<name>.json. Stage benchmarks can also be run alone
(``python -m benchmarks.bench_api --help``)."""

from __future__ import annotations

import argparse

from benchmarks import (
    bench_api,
    bench_batch,
    bench_emulator,
    bench_sink,
    bench_source,
    bench_stream,
)
from benchmarks._harness import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (minutes, not more)")
    args = parser.parse_args()
    quick = args.quick
    report("source database", bench_source.run(200_000 if quick else 2_000_000), "source.json")
    report("api ingestion", bench_api.run(quick), "api.json")
    report(
        "emulator (load mode)",
        bench_emulator.run(iterations=20_000 if quick else 100_000, runs=1 if quick else 3),
        "emulator.json",
    )
    report(
        "sink connector",
        bench_sink.run(
            records=50_000 if quick else 200_000,
            objects=5_000 if quick else 20_000,
            repeat=1 if quick else 3,
        ),
        "sink.json",
    )
    report(
        "batch job, DuckDB and Spark",
        bench_batch.run(bench_batch.QUICK_POSTS if quick else 1_000_000),
        "batch.json",
    )
    report(
        "streaming, API to Delta",
        bench_stream.run(
            bench_stream.QUICK_RATE if quick else bench_stream.FULL_RATE,
            bench_stream.QUICK_S if quick else bench_stream.FULL_S,
            bench_stream.QUICK_WARMUP_S if quick else bench_stream.FULL_WARMUP_S,
        ),
        "stream.json",
    )


if __name__ == "__main__":
    main()
