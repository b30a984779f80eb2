"""``./dev bench``: run every benchmark in one go (each writes benchmarks/results/<name>.json)."""

from __future__ import annotations

import argparse

from benchmarks import bench_source
from benchmarks._harness import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (minutes, not more)")
    args = parser.parse_args()
    rows = 200_000 if args.quick else 2_000_000
    report("source database", bench_source.run(rows), "source.json")


if __name__ == "__main__":
    main()
