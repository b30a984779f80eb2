"""``pinpipe demo`` wall time from an empty home, as a newcomer runs it (issue 8's target: ≤60 s
with the defaults), next to the same demo's own stage clock.

The demo runs as ``python -m pinpipe --home <empty dir> demo`` in a child process, so the
interpreter's start and every import count, as they do for a user.

    python -m benchmarks.bench_demo [--count N] [--rows N]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Metric, report

TARGET_SECONDS = 60.0
ROOT = Path(__file__).resolve().parents[1]


def run(count: int = 1_000, rows: int | None = None) -> list[Metric]:
    """Time one demo from an empty home with ``count`` iterations per emulator."""
    with tempfile.TemporaryDirectory() as home:
        argv = [sys.executable, "-m", "pinpipe", "--home", home, "demo", "--count", str(count)]
        if rows is not None:
            argv += ["--rows", str(rows)]
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            msg = f"pinpipe demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            raise RuntimeError(msg)
        if not (Path(home) / "report.html").exists():
            msg = "pinpipe demo finished without writing report.html"
            raise RuntimeError(msg)
    own = re.search(r"demo done in ([0-9.]+) s", done.stdout)
    inside = float(own.group(1)) if own else None
    label = f"{count:,} iterations each" + (f", {rows:,} posts" if rows else "")
    return [
        Metric(
            f"pinpipe demo wall time, empty home ({label})",
            wall,
            "s",
            baseline=inside,
            baseline_name="the demo's own clock (no start-up)",
            target=TARGET_SECONDS,
            higher_is_better=False,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    report("pinpipe demo", run(args.count, args.rows), "demo.json")


if __name__ == "__main__":
    main()
