"""S3 sink benchmark: the embedded log into a local lake, compared with the log's raw read rate.

Three figures, each measured in its own child process on the same machine and run:

* records/s at flush.size 1000 (target ≥ 100k/s), against the log's raw read rate of the same
  topic (``Broker.read`` in the sink's 5,000-record pages, doing nothing with the records) and
  the JSON encoding alone (parse + re-encode as the connector writes it);
* objects/s at flush.size 1 (target ≥ 5k/s): one object per record, each written to a
  temporary name and renamed, made durable by one syncfs per commit round; against the lake
  alone writing the same number of objects (``Lake.put_many`` in rounds of 5,000).

The records are the synthetic generator's pin rows (~680 bytes of compact JSON each). Each sink
figure is the median of ``--repeat`` runs (default 3; every run is printed): on a shared machine
the file system's create/rename rate varies several-fold from minute to minute.

    python -m benchmarks.bench_sink [--records 200000] [--objects 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Metric, peak_rss_mib, report, run_child

TARGET_RECORDS_PER_S = 100_000
TARGET_OBJECTS_PER_S = 5_000
UID = "be0c4a000001"
TOPIC = f"{UID}.pin"


def prepare(directory: Path, records: int) -> None:
    """An embedded log with ``records`` pin rows in ``<uid>.pin`` (appends of 10,000)."""
    from pinpipe.broker import OutRecord
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.config import EmbeddedLogSettings
    from pinpipe.records import PIN, dumps
    from pinpipe.source import generate

    with EmbeddedLog(directory / "broker.db", EmbeddedLogSettings(durability="os")) as log:
        log.create_topic(TOPIC)
        for batch in generate(records, seed=0):
            values = [dumps(dict(zip(PIN.column_names, row, strict=True))) for row in batch.pins]
            log.append(TOPIC, [OutRecord(v) for v in values])


def work_read(directory: Path, page: int) -> dict[str, float]:
    from pinpipe.broker.embedded import EmbeddedLog

    with EmbeddedLog(directory / "broker.db") as log:
        end = log.describe_topic(TOPIC).end_offsets[0]
        started = time.perf_counter()
        offset = 0
        while offset < end:
            offset = log.read(TOPIC, 0, offset, page)[-1].offset + 1
        seconds = time.perf_counter() - started
    return {"records": end, "seconds": seconds, "peak_rss_mib": peak_rss_mib()}


def work_encode(directory: Path) -> dict[str, float]:
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.sink import JsonFormat

    with EmbeddedLog(directory / "broker.db") as log:
        values = [r.value for r in log.read(TOPIC, 0, 0, 10**9)]
    fmt = JsonFormat()
    started = time.perf_counter()
    for value in values:
        fmt.encode(value)
    seconds = time.perf_counter() - started
    return {"records": len(values), "seconds": seconds, "peak_rss_mib": peak_rss_mib()}


def work_put(directory: Path, objects: int) -> dict[str, float]:
    from pinpipe.lake import open_lake

    lake = open_lake(str(directory / "lake-put"))
    data = b"x" * 680
    items = [(f"topics/t/partition=0/t+0+{i:010d}.json", data) for i in range(objects)]
    started = time.perf_counter()
    for start in range(0, objects, 5000):
        lake.put_many(items[start : start + 5000])
    seconds = time.perf_counter() - started
    return {"objects": objects, "seconds": seconds, "peak_rss_mib": peak_rss_mib()}


def work_sink(directory: Path, flush_size: int, run: int) -> dict[str, float]:
    from pinpipe.broker.embedded import EmbeddedLog
    from pinpipe.config import Settings
    from pinpipe.sink import run_sink

    name = f"bench-{flush_size}-{run}"
    settings = Settings(home=directory, user_id=UID, lake_url=str(directory / f"lake-{name}"))
    with EmbeddedLog(directory / "broker.db") as log:
        info = run_sink(settings, once=True, flush_size=flush_size, broker=log, name=name)
    return {
        "records": info.records,
        "objects": info.objects,
        "bytes": info.bytes,
        "seconds": info.seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def _child(work: str, directory: Path, *extra: str) -> dict[str, float]:
    return run_child("benchmarks.bench_sink", "--work", work, "--dir", str(directory), *extra)


def _median_run(runs: list[dict[str, float]], key: str) -> dict[str, float]:
    return sorted(runs, key=lambda r: r[key] / r["seconds"])[len(runs) // 2]


def run(records: int, objects: int, repeat: int) -> list[Metric]:
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        _child("prepare", Path(big), "--records", str(records))
        _child("prepare", Path(small), "--records", str(objects))
        read = _child("read", Path(big), "--page", "5000")
        read_500 = _child("read", Path(big), "--page", "500")
        encode = _child("encode", Path(big))
        put = _child("put", Path(small), "--records", str(objects))
        batched_runs, single_runs = [], []
        for i in range(repeat):
            batched_runs.append(_child("sink", Path(big), "--flush-size", "1000", "--run", str(i)))
            single_runs.append(_child("sink", Path(small), "--flush-size", "1", "--run", str(i)))
    batched = _median_run(batched_runs, "records")
    single = _median_run(single_runs, "objects")
    read_rate = read["records"] / read["seconds"]
    rates = ", ".join(f"{r['records'] / r['seconds']:,.0f}" for r in batched_runs)
    print(f"flush.size 1000 runs (records/s): {rates}")
    rates = ", ".join(f"{r['objects'] / r['seconds']:,.0f}" for r in single_runs)
    print(f"flush.size 1 runs (objects/s): {rates}")
    print(
        f"flush.size 1000: {batched['objects']:,.0f} objects, {batched['bytes'] / 2**20:,.0f} MiB;"
        f" flush.size 1: {single['objects']:,.0f} objects; peak RSS "
        f"{batched['peak_rss_mib']:.0f} / {single['peak_rss_mib']:.0f} MiB"
    )
    return [
        Metric("log read, 5,000-record pages (the sink's)", read_rate, "records/s"),
        Metric(
            "log read, 500-record pages",
            read_500["records"] / read_500["seconds"],
            "records/s",
            baseline=read_rate,
            baseline_name="5,000-record pages",
        ),
        Metric(
            "JSON parse + encode alone",
            encode["records"] / encode["seconds"],
            "records/s",
            baseline=read_rate,
            baseline_name="log read",
        ),
        Metric(
            f"sink records/s, flush.size 1000 ({records:,} pins)",
            batched["records"] / batched["seconds"],
            "records/s",
            baseline=read_rate,
            baseline_name="log read",
            target=TARGET_RECORDS_PER_S,
        ),
        Metric(
            f"lake alone: put_many of {objects:,} objects",
            put["objects"] / put["seconds"],
            "objects/s",
        ),
        Metric(
            f"sink objects/s, flush.size 1 ({objects:,} pins)",
            single["objects"] / single["seconds"],
            "objects/s",
            baseline=put["objects"] / put["seconds"],
            baseline_name="lake alone",
            target=TARGET_OBJECTS_PER_S,
        ),
        Metric(
            "sink peak RSS under load (VmHWM, flush.size 1000)",
            batched["peak_rss_mib"],
            "MiB",
            higher_is_better=False,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per sink figure")
    parser.add_argument("--work", choices=["prepare", "read", "encode", "put", "sink"])
    parser.add_argument("--run", type=int, default=0)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--flush-size", type=int, default=1)
    parser.add_argument("--page", type=int, default=5000)
    args = parser.parse_args()
    if args.work:
        if args.work == "prepare":
            prepare(args.dir, args.records)
            result: dict[str, float] = {}
        elif args.work == "read":
            result = work_read(args.dir, args.page)
        elif args.work == "encode":
            result = work_encode(args.dir)
        elif args.work == "put":
            result = work_put(args.dir, args.records)
        else:
            result = work_sink(args.dir, args.flush_size, args.run)
        print(json.dumps(result))
        return
    report("S3 sink into a local lake", run(args.records, args.objects, args.repeat), "sink.json")


if __name__ == "__main__":
    main()
