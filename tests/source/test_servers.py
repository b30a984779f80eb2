"""The source database on real servers: MariaDB (the course's RDS MySQL) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.source import SourceReader, init_source, source_stats
from tests.source.test_load import check_reference_load

pytestmark = [pytest.mark.integration]


@pytest.fixture(
    params=[
        pytest.param("mariadb_url", marks=pytest.mark.mysql, id="mariadb"),
        pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgres"),
    ]
)
def server_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(request.param)
    return url


def test_load_reference_into_server(server_url: str, reference_dir: Path, tmp_path: Path) -> None:
    check_reference_load(server_url, reference_dir, tmp_path)


def test_init_and_stats_on_server(server_url: str) -> None:
    info = init_source(server_url, rows=2_000, seed=7, replace=True)
    assert dict(info.rows) == {"pin": 2_000, "geo": 2_000, "user": 2_000}
    stats = source_stats(server_url)
    assert stats.rows == {"pin": 2_000, "geo": 2_000, "user": 2_000}
    assert stats.blocks_contiguous
    assert sum(stats.join_years.values()) == 2_000
    assert sum(stats.post_years.values()) == 2_000
    assert all(isinstance(year, int) for year in stats.post_years)
    with SourceReader(server_url) as reader:
        row = reader.row("geo", 1_999)
        assert row is not None and row["timestamp"].tzinfo is not None
        assert [len(b) for b in reader.scan("pin", batch_size=700)] == [700, 700, 600]
