"""``pinpipe source``: create, load and describe the source database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Group
from rich.table import Table

from pinpipe.cli._common import console, kv_table, progress_bar, state
from pinpipe.naming import RecordKindName
from pinpipe.source import DEFAULT_ROWS, FillInfo, SourceStats, init_source, load_source
from pinpipe.source import source_stats as compute_stats
from pinpipe.source.stats import COURSE_DISTINCT_USERS_PER_ROW, COURSE_SHARES

app = typer.Typer(help="The source database (the course's RDS MySQL).", no_args_is_help=True)

UrlOption = Annotated[
    str | None, typer.Option("--url", help="SQLAlchemy URL (default: source_url from config).")
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Overwrite tables that already hold rows.")
]


def _url(ctx: typer.Context, url: str | None) -> str:
    return (
        state(ctx).settings(source_url=url).source_url if url else state(ctx).settings().source_url
    )


def _print_fill(info: FillInfo, verb: str) -> None:
    rows: dict[str, object] = {f"{kind} rows": n for kind, n in info.rows.items()}
    rows |= {f"{kind} file": f for kind, f in info.files.items()}
    rows |= {
        "database": info.url,
        "seconds": f"{info.seconds:.2f}",
        "rows/s": f"{info.rows_per_second:,.0f}",
    }
    console.print(kv_table(f"source {verb}", rows))


@app.command("init")
def init(
    ctx: typer.Context,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Posts to generate.")] = DEFAULT_ROWS,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 0,
    url: UrlOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Fill the three tables with the faithful synthetic dataset (SPEC §1)."""
    target = _url(ctx, url)
    with progress_bar("generating", rows) as bar:
        info = init_source(
            target,
            rows=rows,
            seed=seed,
            replace=replace,
            on_progress=lambda n: bar.advance(bar.task_ids[0], n),
        )
    _print_fill(info, "init")


@app.command("load")
def load(
    ctx: typer.Context,
    pin: Annotated[
        Path | None, typer.Option("--pin", help="pinterest_data dump (.csv/.jsonl).")
    ] = None,
    geo: Annotated[Path | None, typer.Option("--geo", help="geolocation_data dump.")] = None,
    user: Annotated[Path | None, typer.Option("--user", help="user_data dump.")] = None,
    url: UrlOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Load real dumps in one transaction; a bad file is named with line and column."""
    given: tuple[tuple[RecordKindName, Path | None], ...] = (
        ("pin", pin),
        ("geo", geo),
        ("user", user),
    )
    files = {kind: path for kind, path in given if path}
    target = _url(ctx, url)
    with progress_bar("loading", None) as bar:
        info = load_source(
            target, files, replace=replace, on_progress=lambda n: bar.advance(bar.task_ids[0], n)
        )
    _print_fill(info, "load")


def render_stats(stats: SourceStats) -> Group:
    """Rich tables of the source statistics (used by ``source stats`` and the demo)."""
    pin_rows = stats.rows.get("pin") or 0
    user_rows = stats.rows.get("user") or 0
    geo_rows = stats.rows.get("geo") or 0

    def pct(n: int, total: int) -> str:
        return f"{n:,} ({100 * n / total:.1f}%)" if total else f"{n:,}"

    overview = kv_table(
        "source database",
        {
            "database": stats.url,
            **{f"{k} rows": v if v is not None else "no table" for k, v in stats.rows.items()},
            "distinct users": f"{stats.distinct_users:,} (course DB: "
            f"{COURSE_DISTINCT_USERS_PER_ROW * user_rows:,.0f} for as many rows)",
            "distinct posters": stats.distinct_posters,
            "countries": stats.distinct_countries,
            "category blocks contiguous": stats.blocks_contiguous,
        },
    )
    blocks = Table("category", "rows", "index range", title="categories", title_justify="left")
    for b in stats.categories:
        blocks.add_row(b.category, f"{b.rows:,}", f"{b.first_index}..{b.last_index}")
    shape = Table(
        "measure", "value", "rows", "course DB", title="distributions", title_justify="left"
    )

    def add(measure: str, values: dict[str, int] | dict[int, int], total: int) -> None:
        course = COURSE_SHARES.get(measure, {})
        for name, n in values.items():
            share = course.get(str(name))
            shape.add_row(
                measure, str(name), pct(n, total), "" if share is None else f"{100 * share:.1f}%"
            )

    add("placeholder", stats.placeholders, pin_rows)
    add("is_image_or_video", stats.media, pin_rows)
    add("age group", stats.age_groups, user_rows)
    add("join year", stats.join_years, user_rows)
    add("post year", stats.post_years, geo_rows)
    add("top country", stats.top_countries, geo_rows)
    return Group(overview, blocks, shape)


@app.command("stats")
def stats(
    ctx: typer.Context,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Row counts and key distributions, to compare with the real course tables."""
    result = compute_stats(_url(ctx, url))
    if as_json:
        typer.echo(
            orjson.dumps(
                result.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
            ).decode()
        )
    else:
        console.print(render_stats(result))
