"""``pinpipe stream --once`` and ``pinpipe delta optimize|vacuum`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.cli import app
from pinpipe.config import Settings

runner = CliRunner()


def test_stream_once_then_optimize_and_vacuum(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with EmbeddedLog(tmp_path / "broker.db") as log:
        for kind in ("pin", "geo", "user"):
            log.create_topic(settings.names.stream(kind))
        geo = settings.names.stream("geo")
        for start in range(0, 60, 20):  # three appends: three micro-batches at 20 records
            log.append(
                geo,
                [
                    OutRecord(orjson.dumps({"ind": i, "country": "Chad", "latitude": 1.0}))
                    for i in range(start, start + 20)
                ],
            )
    env = {"COLUMNS": "200"}
    home = ["--home", str(tmp_path)]
    result = runner.invoke(app, [*home, "stream", "--once", "--max-batch-records", "20"], env=env)
    assert result.exit_code == 0, result.output
    assert "60 records" in result.output and "caught up" in result.output
    result = runner.invoke(app, [*home, "delta", "optimize", f"{settings.user_id}_geo_table"])
    assert result.exit_code == 0, result.output
    assert "files →" in result.output
    result = runner.invoke(app, [*home, "delta", "vacuum", "--retention-hours", "0"])
    assert result.exit_code == 0, result.output
    assert "files deleted" in result.output
    result = runner.invoke(app, [*home, "delta", "optimize", "nope"])
    assert result.exit_code == 1 and "the tables are" in result.output
    again = runner.invoke(app, [*home, "stream", "--once"], env=env)
    assert again.exit_code == 0 and "0 records" in again.output
