"""The HTML report (``pinpipe report``): one self-contained page, readable offline, with the
pipeline's figures (records per topic and stream, lake objects, Delta versions and rows, data
quality) and each course question's result as a chart and a table.

``build_report`` collects the facts, ``render_report`` turns them into HTML and
``write_report`` does both and writes the file atomically. :class:`LiveDashboard` gathers the
same facts, live, for the dashboard ``pinpipe api`` serves at ``/ui`` (:mod:`pinpipe.api.ui`).
"""

from __future__ import annotations

from pinpipe.report.data import ReportData, ReportError, build_report
from pinpipe.report.html import render_report, write_report
from pinpipe.report.live import LiveDashboard

__all__ = [
    "LiveDashboard",
    "ReportData",
    "ReportError",
    "build_report",
    "render_report",
    "write_report",
]
