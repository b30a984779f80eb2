"""Emulator benchmark: load-mode throughput against a real ``pinpipe api`` process.

The API runs as its own process on 127.0.0.1 with the embedded log (default durability: an
fsync per append batch) in a fresh directory per run; the emulator runs in a child process of
its own (its CPU is its own) with batch size 500 and 8 connections, over an 11,154-row
synthetic source. Compared with the course's shape (one row per request, one at a time).
Both processes share this machine's cores. ``BENCH_PINPIPE_*`` variables reach the API as
``PINPIPE_*`` (e.g. ``BENCH_PINPIPE_EMBEDDED__DURABILITY=os``).

    python -m benchmarks.bench_emulator [--iterations 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks._harness import Metric, report, run_child

TARGET_RECORDS_PER_S = 50_000
USER_ID = "1232252d77df"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_process(home: Path) -> Iterator[str]:
    """``pinpipe api`` on a free port with its embedded log in ``home``; its URL."""
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env |= {"PINPIPE_HOME": str(home), "PINPIPE_USER_ID": USER_ID}
    env |= {k[6:]: v for k, v in os.environ.items() if k.startswith("BENCH_PINPIPE_")}
    command = [sys.executable, "-m", "pinpipe", "api", "--host", "127.0.0.1", "--port", str(port)]
    with (home / "api.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"pinpipe api did not start: {(home / 'api.log').read_text()[-2000:]}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def work_emulate(
    api: str, source: str, mode: str, iterations: int, batch: int, concurrency: int
) -> dict[str, Any]:
    """In the child: one run; its summary plus the emulator's CPU seconds."""
    from pinpipe.emulator import EmulationPlan, run_emulation

    plan = EmulationPlan(
        mode,  # type: ignore[arg-type]
        api,
        USER_ID,
        count=iterations,
        batch_size=batch,
        concurrency=concurrency,
    )
    cpu = time.process_time()
    summary = run_emulation(plan, source)
    result = summary.to_dict()
    result["cpu_seconds"] = time.process_time() - cpu
    return result


def _emulate(api: str, source: str, mode: str, iterations: int, batch: int, conc: int) -> Any:
    args = ["--work", api, source, mode, str(iterations), str(batch), str(conc)]
    return run_child("benchmarks.bench_emulator", *args)


def run(iterations: int, runs: int, course_iterations: int = 1_000) -> list[Metric]:
    from pinpipe.source import init_source

    metrics: list[Metric] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = f"sqlite:///{Path(tmp) / 'source.db'}"
        init_source(source, rows=11_154)
        for mode in ("batch", "stream"):
            results = []
            for run_no in range(runs):  # a fresh API and log each time: the log's size matters
                home = Path(tmp) / f"{mode}-{run_no}"
                home.mkdir()
                with api_process(home) as api:
                    if run_no == 0:
                        course = _emulate(api, source, mode, course_iterations, 1, 1)
                    results.append(_emulate(api, source, mode, iterations, 500, 8))
            rates = [r["records_per_second"] for r in results]
            best = max(results, key=lambda r: r["records_per_second"])
            print(
                f"{mode}: records/s per run {[round(r) for r in rates]}; "
                f"emulator CPU {best['cpu_seconds']:.2f} s for {best['records']:,} records; "
                f"failed {sum(r['failed'] for r in results)}, retried "
                f"{sum(r['retried'] for r in results)}"
            )
            metrics += [
                Metric(
                    f"{mode}: records/s (batch 500, 8 connections, median of {runs})",
                    statistics.median(rates),
                    "rec/s",
                    baseline=course["records_per_second"],
                    baseline_name="course shape: 1 row/request, sequential",
                    target=TARGET_RECORDS_PER_S,
                ),
                Metric(
                    f"{mode}: request latency p50",
                    best["latency_ms"]["p50"],
                    "ms",
                    higher_is_better=False,
                ),
                Metric(
                    f"{mode}: request latency p99",
                    best["latency_ms"]["p99"],
                    "ms",
                    higher_is_better=False,
                ),
                Metric(
                    f"{mode}: emulator CPU per 1k records",
                    1e6 * best["cpu_seconds"] / max(1, best["records"]),
                    "ms",
                    higher_is_better=False,
                ),
            ]
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=100_000, help="3 records each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", nargs=6, metavar="ARG")
    args = parser.parse_args()
    if args.work:
        api, source, mode, iterations, batch, concurrency = args.work
        print(
            json.dumps(
                work_emulate(api, source, mode, int(iterations), int(batch), int(concurrency))
            )
        )
        return
    report("emulator (load mode)", run(args.iterations, args.runs), "emulator.json")


if __name__ == "__main__":
    main()
