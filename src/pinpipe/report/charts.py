"""One chart per course question, as a Chart.js configuration built from the stored results.

Each chart is the one a reader takes in at a glance: a bar per category, year or age group,
horizontal when the labels are names, colours that mean the same category everywhere in the
report. The configurations are plain JSON (no JavaScript functions), so they travel to the
page inside ``<script type="application/json">`` blocks; the page's own script adds what JSON
cannot carry (number formats in tooltips). A one-line takeaway under each heading says what
the chart shows in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pinpipe.report.data import Cell, ResultFacts, Results

#: Qualitative palette (Tableau 20's distinct hues), one colour per category.
PALETTE: tuple[str, ...] = (
    "#4e79a7",  # blue
    "#f28e2b",  # orange
    "#59a14f",  # green
    "#e15759",  # red
    "#76b7b2",  # teal
    "#edc948",  # yellow
    "#b07aa1",  # purple
    "#ff9da7",  # pink
    "#9c755f",  # brown
    "#2f4b7c",  # navy
    "#bcbd22",  # olive
    "#8b1e3f",  # wine
    "#bab0ac",  # grey
    "#17becf",  # cyan
)
#: Sequential blues, light to dark, for ordered series (join years); spread over the range used.
SEQUENCE: tuple[str, ...] = (
    "#a6cbe6",
    "#79acd6",
    "#4f8cc4",
    "#2f6eb0",
    "#17528f",
    "#0b3a6b",
)
BAR = "#4e79a7"
ACCENT = "#e60023"
TOP_COUNTRIES = 15
NONE_LABEL = "(none)"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """A chart: its Chart.js configuration, its height on the page and what it shows."""

    config: dict[str, Any]
    height: int
    description: str  # the canvas's accessible label and the figure's caption


ColourMap = dict[str, str]


def label(value: Cell) -> str:
    return NONE_LABEL if value is None else str(value)


def number(value: Cell) -> str:
    return f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) else "–"


def category_colours(data: Results) -> ColourMap:
    """One colour per category, the same in every chart (categories sorted by name)."""
    names = sorted(
        {
            label(value)
            for name in (
                "popular_category_by_country",
                "popular_category_by_year",
                "popular_category_by_age_group",
            )
            for value in data.result(name).column("category")
        }
    )
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def bar_config(
    labels: Sequence[Any],
    datasets: list[dict[str, Any]],
    *,
    value_title: str,
    category_title: str,
    horizontal: bool = False,
    legend: bool = False,
    compact: bool = False,
) -> dict[str, Any]:
    """A Chart.js bar chart: value axis from zero, gridlines on the value axis only."""
    value_axis, category_axis = ("x", "y") if horizontal else ("y", "x")
    ticks: dict[str, Any] = {"format": {"notation": "compact"}} if compact else {}
    return {
        "type": "bar",
        "data": {
            "labels": list(labels),
            "datasets": [
                {"borderRadius": 3, "maxBarThickness": 56, "borderSkipped": "start", **d}
                for d in datasets
            ],
        },
        "options": {
            "indexAxis": "y" if horizontal else "x",
            "locale": "en-US",
            "plugins": {
                "legend": {"display": legend, "position": "bottom"},
                "tooltip": {"enabled": True},
            },
            "scales": {
                value_axis: {
                    "beginAtZero": True,
                    "title": {"display": True, "text": value_title},
                    "ticks": ticks,
                    "grid": {"color": "#e5e9f0"},
                    "border": {"display": False},
                },
                category_axis: {
                    "title": {"display": bool(category_title), "text": category_title},
                    "grid": {"display": False},
                    "ticks": {"autoSkip": False},
                },
            },
        },
    }


def spread(ramp: Sequence[str], count: int) -> list[str]:
    """``count`` colours evenly spaced along ``ramp`` (its ends included from two on)."""
    if count <= 1:
        return list(ramp[len(ramp) // 2 : len(ramp) // 2 + count])
    step = (len(ramp) - 1) / (count - 1)
    return [ramp[min(len(ramp) - 1, round(i * step))] for i in range(count)]


def _height(bars: int) -> int:
    """Horizontal charts grow with their bars; vertical ones keep a fixed, readable height."""
    return max(240, 56 + 26 * bars)


# -- Q1 --------------------------------------------------------------------------------------


def _category_tops(data: Results) -> list[tuple[str, int]]:
    result = data.result("popular_category_by_country")
    counts: dict[str, int] = {}
    for category in result.column("category"):
        counts[label(category)] = counts.get(label(category), 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def chart_q1(data: Results, colours: ColourMap) -> ChartSpec:
    tops = _category_tops(data)
    config = bar_config(
        [name for name, _ in tops],
        [
            {
                "label": "countries",
                "data": [count for _, count in tops],
                "backgroundColor": [colours.get(name, BAR) for name, _ in tops],
            }
        ],
        value_title="countries where it comes first",
        category_title="",
        horizontal=True,
    )
    description = "Horizontal bar chart: for each category, the number of countries where it is "
    description += "the most popular category (a tie counts for each category)."
    return ChartSpec(config, _height(len(tops)), description)


def takeaway_q1(data: Results) -> str:
    tops = _category_tops(data)
    countries = {label(c) for c in data.result("popular_category_by_country").column("country")}
    if not tops:
        return "No country has any post yet."
    name, count = tops[0]
    return f"In {count:,} of {len(countries):,} countries the most popular category is {name}."


# -- Q2, Q4: a winning category per year / age group ------------------------------------------


def _winners(result: ResultFacts, key: str) -> list[tuple[str, str, Cell]]:
    return [
        (label(row[0]), label(row[1]), row[2])
        for row in zip(
            result.column(key),
            result.column("category"),
            result.column("category_count"),
            strict=True,
        )
    ]


def winners_chart(data: Results, colours: ColourMap, name: str, key: str, axis: str) -> ChartSpec:
    winners = _winners(data.result(name), key)
    config = bar_config(
        [[group, category] for group, category, _ in winners],
        [
            {
                "label": "posts",
                "data": [count for _, _, count in winners],
                "backgroundColor": [colours.get(category, BAR) for _, category, _ in winners],
            }
        ],
        value_title="posts",
        category_title=axis,
    )
    description = f"Bar chart: for each {axis}, the most popular category (named under its bar) "
    description += "and its number of posts."
    return ChartSpec(config, 320, description)


def chart_q2(data: Results, colours: ColourMap) -> ChartSpec:
    return winners_chart(data, colours, "popular_category_by_year", "post_year", "post year")


def chart_q4(data: Results, colours: ColourMap) -> ChartSpec:
    return winners_chart(data, colours, "popular_category_by_age_group", "age_group", "age group")


def takeaway_q2(data: Results) -> str:
    winners = _winners(data.result("popular_category_by_year"), "post_year")
    years = sorted({year for year, _, _ in winners})
    if not years:
        return "No post from 2018 to 2022 yet."
    counts: dict[str, int] = {}
    for _, category, _ in winners:
        counts[category] = counts.get(category, 0) + 1
    best = max(sorted(counts), key=lambda c: counts[c])
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else years[0]
    return f"{best} came first in {counts[best]} of the {len(years)} years {span}."


def takeaway_q4(data: Results) -> str:
    winners = _winners(data.result("popular_category_by_age_group"), "age_group")
    if not winners:
        return "No post by a user with a known age yet."
    return "; ".join(f"{group}: {category}" for group, category, _ in winners) + "."


# -- Q3: the most followed poster per country -------------------------------------------------


def _country_leaders(data: Results) -> list[tuple[str, str, int]]:
    """Per country: its most followed poster(s) (ties joined) and their followers, most first."""
    result = data.result("most_followed_user_by_country")
    leaders: dict[str, tuple[list[str], int]] = {}
    for country, poster, followers in zip(
        result.column("country"),
        result.column("poster_name"),
        result.column("follower_count"),
        strict=True,
    ):
        count = followers if isinstance(followers, int) else 0
        names, _ = leaders.setdefault(label(country), ([], count))
        names.append(label(poster))
    ranked = [(country, ", ".join(names), count) for country, (names, count) in leaders.items()]
    return sorted(ranked, key=lambda item: (-item[2], item[0]))


def _winner(data: Results) -> tuple[str, Cell] | None:
    result = data.result("country_with_most_followed_user")
    if not result.rows:
        return None
    return label(result.column("country")[0]), result.column("follower_count")[0]


def chart_q3(data: Results, colours: ColourMap) -> ChartSpec:
    leaders = _country_leaders(data)[:TOP_COUNTRIES]
    winner = _winner(data)
    top = winner[0] if winner else None
    config = bar_config(
        [country for country, _, _ in leaders],
        [
            {
                "label": "followers",
                "data": [count for _, _, count in leaders],
                "notes": [posters for _, posters, _ in leaders],
                "backgroundColor": [ACCENT if c == top else BAR for c, _, _ in leaders],
            }
        ],
        value_title="followers of the top poster",
        category_title="",
        horizontal=True,
        compact=True,
    )
    description = f"Horizontal bar chart: the {len(leaders)} countries whose most followed "
    description += "poster has the most followers, with that follower count"
    description += f"; {top} (the answer to Q3b) is highlighted." if top else "."
    return ChartSpec(config, _height(len(leaders)), description)


def takeaway_q3(data: Results) -> str:
    winner = _winner(data)
    if winner is None:
        return "No poster with a known follower count yet."
    country, followers = winner
    posters = next((p for c, p, _ in _country_leaders(data) if c == country), "")
    who = f" ({posters})" if posters else ""
    return f"{country} has the most followed poster of any country{who}: {number(followers)}."


# -- Q5–Q8: counts and medians ----------------------------------------------------------------


def single_series(
    result: ResultFacts,
    key: str,
    value: str,
    *,
    value_title: str,
    category_title: str,
    what: str,
    compact: bool,
) -> ChartSpec:
    config = bar_config(
        [label(v) for v in result.column(key)],
        [{"label": value_title, "data": result.column(value), "backgroundColor": BAR}],
        value_title=value_title,
        category_title=category_title,
        compact=compact,
    )
    return ChartSpec(config, 300, f"Bar chart: {what} per {category_title}.")


def chart_q5(data: Results, colours: ColourMap) -> ChartSpec:
    return single_series(
        data.result("median_followers_by_age_group"),
        "age_group",
        "median_follower_count",
        value_title="median follower count",
        category_title="age group",
        what="the median follower count of posters",
        compact=True,
    )


def chart_q6(data: Results, colours: ColourMap) -> ChartSpec:
    return single_series(
        data.result("users_joined_by_year"),
        "post_year",
        "number_users_joined",
        value_title="users who joined",
        category_title="join year",
        what="the number of distinct users who joined",
        compact=False,
    )


def chart_q7(data: Results, colours: ColourMap) -> ChartSpec:
    return single_series(
        data.result("median_followers_by_join_year"),
        "post_year",
        "median_follower_count",
        value_title="median follower count",
        category_title="join year",
        what="the median follower count of users",
        compact=True,
    )


def chart_q8(data: Results, colours: ColourMap) -> ChartSpec:
    result = data.result("median_followers_by_age_group_and_join_year")
    groups = list(dict.fromkeys(label(g) for g in result.column("age_group")))
    years = sorted({label(y) for y in result.column("post_year")})
    medians = {
        (label(g), label(y)): m
        for g, y, m in zip(
            result.column("age_group"),
            result.column("post_year"),
            result.column("median_follower_count"),
            strict=True,
        )
    }
    shades = spread(SEQUENCE, len(years))
    config = bar_config(
        groups,
        [
            {
                "label": f"joined {year}",
                "data": [medians.get((group, year)) for group in groups],
                "backgroundColor": shades[i % len(shades)],
            }
            for i, year in enumerate(years)
        ],
        value_title="median follower count",
        category_title="age group",
        legend=True,
        compact=True,
    )
    description = "Grouped bar chart: the median follower count per age group, one bar per "
    description += "join year."
    return ChartSpec(config, 340, description)


def _extremes(result: ResultFacts, key: str, value: str, unit: str) -> str:
    pairs = [
        (label(k), v)
        for k, v in zip(result.column(key), result.column(value), strict=True)
        if isinstance(v, int | float)
    ]
    if not pairs:
        return "No rows yet."
    high = max(pairs, key=lambda p: p[1])
    low = min(pairs, key=lambda p: p[1])
    return f"Highest {unit}: {high[0]} ({number(high[1])}); lowest: {low[0]} ({number(low[1])})."


def takeaway_q5(data: Results) -> str:
    result = data.result("median_followers_by_age_group")
    return _extremes(result, "age_group", "median_follower_count", "median")


def takeaway_q6(data: Results) -> str:
    result = data.result("users_joined_by_year")
    counts = [v for v in result.column("number_users_joined") if isinstance(v, int)]
    if not counts:
        return "No user joined from 2015 to 2020."
    extremes = _extremes(result, "post_year", "number_users_joined", "year")
    return f"{sum(counts):,} distinct users joined. {extremes}"


def takeaway_q7(data: Results) -> str:
    result = data.result("median_followers_by_join_year")
    return _extremes(result, "post_year", "median_follower_count", "median")


def takeaway_q8(data: Results) -> str:
    result = data.result("median_followers_by_age_group_and_join_year")
    best = max(
        (row for row in result.rows if isinstance(row[2], int | float)),
        key=lambda row: row[2] if isinstance(row[2], int | float) else 0,
        default=None,
    )
    if best is None:
        return "No rows yet."
    return f"Highest median: {label(best[0])} who joined in {label(best[1])} ({number(best[2])})."


ChartBuilder = Callable[[Results, ColourMap], ChartSpec]
Takeaway = Callable[[Results], str]

#: Per course question (Q1 to Q8): its chart and the sentence that says what it shows.
CHARTS: dict[str, tuple[ChartBuilder, Takeaway]] = {
    "q1": (chart_q1, takeaway_q1),
    "q2": (chart_q2, takeaway_q2),
    "q3": (chart_q3, takeaway_q3),
    "q4": (chart_q4, takeaway_q4),
    "q5": (chart_q5, takeaway_q5),
    "q6": (chart_q6, takeaway_q6),
    "q7": (chart_q7, takeaway_q7),
    "q8": (chart_q8, takeaway_q8),
}
