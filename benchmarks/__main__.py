"""``pinpipe bench [--quick|--full] [--json FILE]`` (also ``./dev bench``): every stage's benchmark
in one run on this machine, each in child processes of its own; each stage prints its table and
writes benchmarks/results/<stage>.json, and the run ends with one table of every metric (the
figure, what it is compared with in the same run, the ratio, the target and whether it is met)
and, with ``--json``, one JSON list of them. Stage benchmarks also run alone
(``python -m benchmarks.bench_api --help``).

``--full`` (default) uses the issue sizes: 2M generated rows, 1M posts for the batch engines,
22k events/s for 30 s of streaming; ``--quick`` shrinks them to finish in about three minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from benchmarks import (
    bench_api,
    bench_batch,
    bench_demo,
    bench_emulator,
    bench_sink,
    bench_source,
    bench_stream,
)
from benchmarks._harness import Metric, console, report

Stage = tuple[str, str, Callable[[bool], list[Metric]]]

STAGES: tuple[Stage, ...] = (
    ("source", "source database", lambda q: bench_source.run(100_000 if q else 2_000_000)),
    ("api", "api ingestion", bench_api.run),
    (
        "emulator",
        "emulator (load mode)",
        lambda q: bench_emulator.run(
            iterations=10_000 if q else 100_000,
            runs=1 if q else 3,
            course_iterations=300 if q else 1_000,
        ),
    ),
    (
        "sink",
        "sink connector",
        lambda q: bench_sink.run(
            records=20_000 if q else 200_000, objects=2_000 if q else 20_000, repeat=1 if q else 3
        ),
    ),
    (
        "batch",
        "batch job, DuckDB and Spark",
        lambda q: bench_batch.run(bench_batch.QUICK_POSTS if q else 1_000_000),
    ),
    (
        "stream",
        "streaming, API to Delta",
        lambda q: bench_stream.run(
            bench_stream.QUICK_RATE if q else bench_stream.FULL_RATE,
            bench_stream.QUICK_S if q else bench_stream.FULL_S,
            bench_stream.QUICK_WARMUP_S if q else bench_stream.FULL_WARMUP_S,
        ),
    ),
    ("demo", "pinpipe demo", lambda q: bench_demo.run(200 if q else 1_000)),
)


def summary_table(results: list[tuple[str, Metric]], seconds: float) -> Table:
    table = Table(title=f"every metric ({seconds:.0f} s)", title_justify="left")
    for column in ("stage", "metric", "value", "compared with", "ratio", "target", "pass"):
        table.add_column(column, justify="left" if column in ("stage", "metric") else "right")
    for stage, m in results:
        target = (
            "" if m.target is None else ("≥ " if m.higher_is_better else "≤ ") + f"{m.target:,}"
        )
        table.add_row(
            stage,
            m.name,
            f"{m.value:,.1f} {m.unit}",
            "" if m.baseline is None else f"{m.baseline:,.1f}",
            "" if m.ratio is None else f"{m.ratio:.2f}×",
            target,
            {True: "[green]yes", False: "[red]no", None: ""}[m.passed],
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes (about 3 minutes)")
    size.add_argument("--full", action="store_true", help="the issue sizes (default)")
    parser.add_argument("--json", type=Path, help="write every metric to this JSON file")
    parser.add_argument(
        "--only", nargs="+", choices=[s[0] for s in STAGES], help="run these stages only"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    results: list[tuple[str, Metric]] = []
    stage_seconds: dict[str, float] = {}
    for key, title, run in STAGES:
        if args.only and key not in args.only:
            continue
        stage_started = time.perf_counter()
        metrics = run(args.quick)
        stage_seconds[key] = round(time.perf_counter() - stage_started, 1)
        report(title, metrics, f"{key}.json")
        results += [(key, m) for m in metrics]
    seconds = time.perf_counter() - started
    console.print(summary_table(results, seconds))
    console.print("seconds per stage: " + ", ".join(f"{k} {v:g}" for k, v in stage_seconds.items()))
    if args.json:
        entries = [{"stage": stage} | m.to_dict() for stage, m in results]
        document = {
            "size": "quick" if args.quick else "full",
            "seconds": seconds,
            "stage_seconds": stage_seconds,
        }
        args.json.write_text(json.dumps(document | {"metrics": entries}, indent=2) + "\n")
        console.print(f"written: {args.json}")


if __name__ == "__main__":
    main()
