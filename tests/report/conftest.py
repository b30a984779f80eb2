"""The report suite's pipeline: one home, built once per run, that every module reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pinpipe.report import ReportData, build_report
from tests.report import built_home, settings_for


@pytest.fixture(scope="session")
def home(
    tmp_path_factory: pytest.TempPathFactory,
    landed_lake_dir: Path,
    reference_raw: dict[str, list[dict[str, Any]]],
) -> Path:
    """The reference rows through sink, batch job and one streaming run (read-only)."""
    return built_home(
        tmp_path_factory.mktemp("report-home") / "home", landed_lake_dir, reference_raw
    )


@pytest.fixture(scope="session")
def data(home: Path) -> ReportData:
    return build_report(settings_for(home))
