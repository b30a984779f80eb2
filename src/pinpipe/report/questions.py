"""The course's eight questions as the report and the live dashboard show them: a heading, the
question, a one-line takeaway, a chart and the result tables the chart is drawn from.

Both pages are built from :func:`question_views`, so a chart or a number format changes in one
place. The views hold plain text; the report adds its HTML (``<wbr>`` in long names, JSON in
``<script>`` blocks), the dashboard sends them as JSON (:func:`question_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pinpipe.report.charts import CHARTS, ChartSpec, category_colours
from pinpipe.report.data import Cell, ResultFacts, Results


@dataclass(frozen=True, slots=True)
class Section:
    """One course question on the page and the stored results that answer it."""

    anchor: str
    number: str
    title: str
    question: str
    results: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "q1",
        "Q1",
        "Most popular category per country",
        "Which category has the most posts in each country?",
        ("popular_category_by_country",),
    ),
    Section(
        "q2",
        "Q2",
        "Most popular category per year",
        "Which category had the most posts in each year from 2018 to 2022?",
        ("popular_category_by_year",),
    ),
    Section(
        "q3",
        "Q3",
        "Most followed user per country",
        "Who is each country's most followed poster, and which country's has the most followers?",
        ("most_followed_user_by_country", "country_with_most_followed_user"),
    ),
    Section(
        "q4",
        "Q4",
        "Most popular category per age group",
        "Which category has the most posts among users aged 18-24, 25-35, 36-50 and over 50?",
        ("popular_category_by_age_group",),
    ),
    Section(
        "q5",
        "Q5",
        "Median follower count per age group",
        "How many followers does the median poster have in each age group?",
        ("median_followers_by_age_group",),
    ),
    Section(
        "q6",
        "Q6",
        "Users joined per year",
        "How many distinct users joined in each year from 2015 to 2020?",
        ("users_joined_by_year",),
    ),
    Section(
        "q7",
        "Q7",
        "Median follower count per join year",
        "How many followers does the median user have, by the year they joined (2015 to 2020)?",
        ("median_followers_by_join_year",),
    ),
    Section(
        "q8",
        "Q8",
        "Median follower count per age group and join year",
        "How many followers does the median user of each age group have, by join year?",
        ("median_followers_by_age_group_and_join_year",),
    ),
)


def is_year(column: str) -> bool:
    """Year columns are labels, not quantities: no thousands separator."""
    return column == "year" or column.endswith("_year")


def cell(value: Cell, column: str) -> str:
    """A result cell as the table shows it: numbers with thousands separators (years
    without), times in UTC, NULL as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value) if is_year(column) else f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


#: A word longer than this may break anywhere, so that a long name cannot widen its table past
#: a phone's screen; shorter words stay whole.
LONG_WORD = 16


def cell_class(value: Cell, text: str, numeric: bool) -> str:
    long = not numeric and any(len(word) > LONG_WORD for word in text.split())
    flags = (("num", numeric), ("null", value is None), ("break", long))
    return " ".join(name for name, on in flags if on)


@dataclass(frozen=True, slots=True)
class TableView:
    """A result as a table: its columns and each cell's text and CSS classes."""

    name: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: tuple[tuple[tuple[str, str], ...], ...]  # (text, classes) per cell


@dataclass(frozen=True, slots=True)
class QuestionView:
    section: Section
    takeaway: str
    chart: ChartSpec
    tables: tuple[TableView, ...]

    @property
    def chart_id(self) -> str:
        return f"chart-{self.section.anchor}"


def table_view(result: ResultFacts) -> TableView:
    rows = []
    for row in result.rows:
        cells = []
        for value, column, numeric in zip(row, result.columns, result.numeric, strict=True):
            text = cell(value, column)
            cells.append((text, cell_class(value, text, numeric)))
        rows.append(tuple(cells))
    return TableView(result.name, result.columns, result.numeric, tuple(rows))


def question_views(results: Results) -> list[QuestionView]:
    """Each question's takeaway, chart and tables, in the course's order."""
    colours = category_colours(results)
    views = []
    for section in SECTIONS:
        build_chart, takeaway = CHARTS[section.anchor]
        views.append(
            QuestionView(
                section=section,
                takeaway=takeaway(results),
                chart=build_chart(results, colours),
                tables=tuple(table_view(results.result(name)) for name in section.results),
            )
        )
    return views


def question_json(view: QuestionView) -> dict[str, Any]:
    """A question view as plain JSON for the dashboard (the page renders every string as
    text, never as HTML)."""
    section = view.section
    return {
        "anchor": section.anchor,
        "number": section.number,
        "title": section.title,
        "question": section.question,
        "takeaway": view.takeaway,
        "chart": {
            "id": view.chart_id,
            "config": view.chart.config,
            "height": view.chart.height,
            "description": view.chart.description,
        },
        "tables": [
            {
                "name": table.name,
                "columns": [
                    {"name": name, "numeric": numeric}
                    for name, numeric in zip(table.columns, table.numeric, strict=True)
                ],
                "rows": [[{"text": t, "class": c} for t, c in row] for row in table.rows],
            }
            for table in view.tables
        ],
    }
