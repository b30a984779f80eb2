"""The source database on a real MariaDB server (the course's RDS MySQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.source import SourceReader, init_source, source_stats
from tests.source.test_load import check_reference_load

pytestmark = [pytest.mark.integration, pytest.mark.mysql]


def test_load_reference_into_mariadb(mariadb_url: str, reference_dir: Path, tmp_path: Path) -> None:
    check_reference_load(mariadb_url, reference_dir, tmp_path)


def test_init_and_stats_on_mariadb(mariadb_url: str) -> None:
    info = init_source(mariadb_url, rows=2_000, seed=7, replace=True)
    assert dict(info.rows) == {"pin": 2_000, "geo": 2_000, "user": 2_000}
    stats = source_stats(mariadb_url)
    assert stats.rows == {"pin": 2_000, "geo": 2_000, "user": 2_000}
    assert stats.blocks_contiguous
    assert sum(stats.join_years.values()) == 2_000
    assert sum(stats.post_years.values()) == 2_000
    with SourceReader(mariadb_url) as reader:
        row = reader.row("geo", 1_999)
        assert row is not None and row["timestamp"].tzinfo is not None
        assert [len(b) for b in reader.scan("pin", batch_size=700)] == [700, 700, 600]
