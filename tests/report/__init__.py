"""The report suite's shared pipeline: the course's real rows landed by the sink, the real batch
job over them, and the real streaming job over a few hundred of them (with bad payloads and
exact re-sends), so the report has every section. Built once per run and only read after."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson

from pinpipe.batch import run_batch
from pinpipe.broker import OutRecord
from pinpipe.broker.embedded import EmbeddedLog
from pinpipe.config import EmbeddedLogSettings, Settings
from pinpipe.stream import run_stream
from pinpipe.transform import CLEANING
from tests.landing import UID

#: Payloads of the pin stream that are not records: the streaming job's dead letters.
BAD_PAYLOADS = [b"not json", b"[1, 2]", b'{"index": "seven"}']
STREAM_ROWS = 300
RESENDS = 20


def settings_for(home: Path) -> Settings:
    return Settings(home=home, user_id=UID, embedded={"durability": "none"})


def _produce_streams(settings: Settings, raw: dict[str, list[dict[str, Any]]]) -> None:
    with EmbeddedLog(settings.home / "broker.db", EmbeddedLogSettings(durability="none")) as log:
        for kind in CLEANING:
            name = settings.names.stream(kind)
            log.create_topic(name, 2 if kind == "pin" else 1)
            rows = raw[kind][:STREAM_ROWS]
            values = [orjson.dumps(r) for r in [*rows, *rows[:RESENDS]]]
            if kind == "pin":
                values += BAD_PAYLOADS
            log.append(name, [OutRecord(v, key=str(i).encode()) for i, v in enumerate(values)])


def built_home(home: Path, landed_lake_dir: Path, raw: dict[str, list[dict[str, Any]]]) -> Path:
    """``home`` (embedded log + lake) after the batch job and one streaming run."""
    shutil.copytree(landed_lake_dir.parent, home)  # broker.db and lake/
    settings = settings_for(home)
    run_batch(settings, engine="duckdb")
    _produce_streams(settings, raw)
    run_stream(settings, once=True, max_batch_records=200)
    return home
