"""``pinpipe sink``: the S3 sink connector, from the topics to the lake (exactly-once)."""

from __future__ import annotations

import threading
from typing import Annotated

import orjson
import typer
from rich.table import Table

from pinpipe.cli._common import console, err_console, progress_bar, state
from pinpipe.sink import DEFAULT_DLQ, SinkInfo, SinkProgress, run_sink, stop_on_signals
from pinpipe.sink.formats import FormatName
from pinpipe.sink.jackson import FieldOrder
from pinpipe.sink.keys import PartitionerName


def render_info(info: SinkInfo) -> Table:
    """The run's summary: one row per topic, then the totals."""
    table = Table(
        title=f"sink {info.name} (group {info.group}) → {info.lake_url}: {info.format}, "
        f"{info.stopped}",
        title_justify="left",
    )
    table.add_column("topic", overflow="fold")
    for column in ("records", "objects", "bytes", "DLQ", "seconds"):
        table.add_column(column, justify="right")
    table.add_column("committed", overflow="fold")
    for t in info.topics:
        offsets = " ".join(f"{p}:{o}" for p, o in sorted(t.offsets.items()))
        table.add_row(
            t.topic,
            f"{t.records:,}",
            f"{t.objects:,}",
            f"{t.bytes:,}",
            f"{t.dead_letters:,}",
            f"{t.seconds:.2f}",
            offsets,
        )
    table.add_section()
    table.add_row(
        "total",
        f"{info.records:,}",
        f"{info.objects:,}",
        f"{info.bytes:,}",
        f"{info.dead_letters:,}",
        f"{info.seconds:.2f}",
        "",
        style="bold",
    )
    return table


def _as_json(info: SinkInfo) -> bytes:
    topics = [
        {
            "topic": t.topic,
            "records": t.records,
            "objects": t.objects,
            "bytes": t.bytes,
            "dead_letters": t.dead_letters,
            "seconds": t.seconds,
            "offsets": {str(p): o for p, o in t.offsets.items()},
        }
        for t in info.topics
    ]
    body = {
        "name": info.name,
        "group": info.group,
        "lake_url": info.lake_url,
        "format": info.format,
        "stopped": info.stopped,
        "seconds": info.seconds,
        "topics": topics,
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def sink(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Drain what is in the topics now, then exit.")
    ] = False,
    flush_size: Annotated[
        int, typer.Option("--flush-size", min=1, help="Records per object (flush.size).")
    ] = 1,
    rotate_interval_ms: Annotated[
        int | None,
        typer.Option(
            "--rotate-interval-ms",
            min=1,
            help="Also cut an object when a record is this much younger than its first "
            "(broker timestamps; rotate.interval.ms).",
        ),
    ] = None,
    fmt: Annotated[
        FormatName, typer.Option("--format", help="json (the course's) or parquet (pyarrow).")
    ] = "json",
    topics_regex: Annotated[
        str | None,
        typer.Option("--topics-regex", help="Topics to consume (default: '<uid>\\..*')."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Connector name; the group is connect-NAME (default: <uid>-connector)."
        ),
    ] = None,
    partitioner: Annotated[
        PartitionerName,
        typer.Option(
            "--partitioner", help="default: partition=N; time: dt=YYYY-MM-DD/hour=HH (UTC)."
        ),
    ] = "default",
    field_order: Annotated[
        FieldOrder,
        typer.Option(
            "--field-order",
            help="received: fields as produced; connect: the real connector's (Java HashMap) "
            "order, byte-identical to it.",
        ),
    ] = "received",
    dlq_topic: Annotated[
        str,
        typer.Option("--dlq-topic", help="Dead-letter topic; {topic} is the source topic."),
    ] = DEFAULT_DLQ,
    s3_endpoint_url: Annotated[
        str | None,
        typer.Option("--s3-endpoint-url", help="Another S3 endpoint for an s3:// lake."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write the topics to the lake as the course's S3 sink connector does, exactly once.

    Keys: topics/<topic>/partition=<p>/<topic>+<p>+<start offset:010d>.json, one record a line.

    Offsets are committed only after the objects are durable; a restart rewrites the same keys.

    Records that are not JSON go to the dead-letter topic (--dlq-topic).

    Without --once it runs until Ctrl-C or SIGTERM; a partly filled object is re-read next time.
    """
    settings = state(ctx).settings()
    stop = threading.Event()
    with stop_on_signals(stop), progress_bar("sink", None) as bar:
        task = bar.task_ids[0]

        def progress(p: SinkProgress) -> None:
            bar.update(
                task,
                completed=p.records,
                total=p.total,
                description=f"sink: {p.objects:,} objects, {p.bytes / 2**20:,.1f} MiB",
            )

        info = run_sink(
            settings,
            once=once,
            flush_size=flush_size,
            rotate_interval_ms=rotate_interval_ms,
            format=fmt,
            topics_regex=topics_regex,
            name=name,
            partitioner=partitioner,
            field_order=field_order,
            dlq_topic=dlq_topic,
            s3_endpoint_url=s3_endpoint_url,
            stop=stop,
            on_progress=progress,
        )
    if as_json:
        typer.echo(_as_json(info).decode())
    else:
        console.print(render_info(info))
    if info.stopped == "stopped" and not once:
        err_console.print(
            "[dim]stopped: committed what was written; partial objects are re-read[/]"
        )
