"""``pinpipe topics`` and ``pinpipe streams``: manage the log, like kafka-topics.sh and the
Kinesis console, on any backend (embedded log, Kafka/MSK, Kinesis).

No ``from __future__ import annotations`` here: the commands are built in a function, and
Typer must evaluate their annotations (which use its locals) when they are defined.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

import orjson
import typer
from rich.table import Table

from pinpipe.broker import Broker, open_broker, validate_stream_name, validate_topic_name
from pinpipe.cli._common import console, state

Family = Literal["topics", "streams"]


def _family_app(family: Family) -> typer.Typer:
    noun = "topic" if family == "topics" else "stream"
    parts = "partitions" if family == "topics" else "shards"
    app = typer.Typer(
        help=f"Create, list, describe and delete {family} "
        f"({'broker_url' if family == 'topics' else 'streams_url'} in config).",
        no_args_is_help=True,
    )
    validate: Callable[[str], str] = (
        validate_topic_name if family == "topics" else validate_stream_name
    )

    @contextmanager
    def broker(ctx: typer.Context) -> Iterator[Broker]:
        settings = state(ctx).settings()
        url = settings.broker_url if family == "topics" else settings.streams_url
        with open_broker(url, settings) as opened:
            yield opened

    def course_names(ctx: typer.Context) -> tuple[str, ...]:
        names = state(ctx).settings().names
        return names.topics if family == "topics" else names.streams

    @app.command("create")
    def create(
        ctx: typer.Context,
        names: Annotated[
            list[str] | None,
            typer.Argument(help=f"{noun} names (default: the course's three {family})"),
        ] = None,
        count: Annotated[int, typer.Option(f"--{parts}", min=1, help=f"Number of {parts}.")] = 1,
        exist_ok: Annotated[
            bool, typer.Option("--exist-ok", help=f"No error if a {noun} exists.")
        ] = False,
    ) -> None:
        """Create {family}; without names, the course's three for user_id."""
        wanted = names or list(course_names(ctx))
        for name in wanted:
            validate(name)
        with broker(ctx) as log:
            existing = set(log.list_topics())
            for name in wanted:
                if name in existing and exist_ok:
                    console.print(f"{noun} [cyan]{name}[/cyan] exists")
                    continue
                log.create_topic(name, count)
                console.print(f"created {noun} [cyan]{name}[/cyan] ({count} {parts})")

    @app.command("list")
    def list_(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List {family} with their record counts."""
        with broker(ctx) as log:
            infos = [log.describe_topic(name) for name in log.list_topics()]
        if as_json:
            rows = [{"name": i.name, parts: i.partitions, "records": i.records} for i in infos]
            typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
            return
        table = Table(noun, parts, "records", title=family, title_justify="left")
        for info in infos:
            table.add_row(info.name, str(info.partitions), f"{info.records:,}")
        console.print(table)

    @app.command("describe")
    def describe(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help=f"The {noun}.")],
        group: Annotated[
            str | None, typer.Option("--group", help="Also show this consumer group's lag.")
        ] = None,
    ) -> None:
        """Partitions (shards), offsets and, with --group, a consumer group's lag."""
        with broker(ctx) as log:
            info = log.describe_topic(name)
            committed = log.committed(group, name) if group else {}
        table = Table(
            "partition" if family == "topics" else "shard",
            "start offset",
            "end offset",
            *(["committed", "lag"] if group else []),
            title=f"{noun} {name}",
            title_justify="left",
        )
        for p, (start, end) in enumerate(zip(info.start_offsets, info.end_offsets, strict=True)):
            extra = []
            if group:
                done = committed.get(p, start)
                extra = [str(done), f"{end - done:,}"]
            table.add_row(str(p), str(start), str(end), *extra)
        console.print(table)

    @app.command("delete")
    def delete(
        ctx: typer.Context,
        names: Annotated[list[str], typer.Argument(help=f"{noun} names.")],
    ) -> None:
        """Delete {family} and their records."""
        with broker(ctx) as log:
            for name in names:
                log.delete_topic(name)
                console.print(f"deleted {noun} [cyan]{name}[/cyan]")

    for command in app.registered_commands:
        callback = command.callback
        if callback is not None and callback.__doc__:
            callback.__doc__ = callback.__doc__.replace("{family}", family)
    return app


topics_app = _family_app("topics")
streams_app = _family_app("streams")
