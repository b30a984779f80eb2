"""What every benchmark shares: the metric record, child-process runs, the table and the JSON."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
console = Console(width=120)


@dataclass(frozen=True, slots=True)
class Metric:
    """One figure, with what it is compared with in the same run and its target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str | None = None
    target: float | None = None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"ratio": self.ratio, "pass": self.passed}
        return data


def rss_mib() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` and return the JSON object it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        msg = f"{module} {' '.join(args)} failed:\n{out.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(title: str, metrics: list[Metric], json_name: str) -> Path:
    """Print the metrics as a table and write them to benchmarks/results/<json_name>."""
    table = Table(title=title, title_justify="left")
    for column in ("metric", "value", "compared with", "ratio", "target", "pass"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for m in metrics:
        compared = f"{m.baseline:,.0f} ({m.baseline_name})" if m.baseline is not None else ""
        target = (
            "" if m.target is None else ("≥ " if m.higher_is_better else "≤ ") + f"{m.target:,}"
        )
        verdict = {True: "[green]yes", False: "[red]no", None: ""}[m.passed]
        table.add_row(
            m.name,
            f"{m.value:,.1f} {m.unit}",
            compared,
            "" if m.ratio is None else f"{m.ratio:.2f}×",
            target,
            verdict,
        )
    console.print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / json_name
    path.write_text(json.dumps([m.to_dict() for m in metrics], indent=2) + "\n")
    console.print(f"written: {path}")
    return path


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float, name: str) -> None:
    """SIGTERM a server this benchmark started (it finishes its work and exits), SIGKILL after
    ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {process.pid}) ignored SIGTERM; killing it")
        process.kill()
        process.wait(5)
