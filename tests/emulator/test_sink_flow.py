"""The course's batch path end to end: reference rows → faithful emulator → API → embedded log
→ sink → lake, with the course's key names and object sizes (SPEC §9.2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinpipe.emulator import Emulator
from pinpipe.sink import run_sink
from tests.emulator.conftest import LocalApiFactory, plan_for
from tests.emulator.test_runner import COURSE_FIRST

pytestmark = pytest.mark.anyio


async def test_faithful_run_lands_the_courses_first_object(
    local_api: LocalApiFactory, reference_source: str, user_id: str, tmp_path: Path
) -> None:
    async with local_api() as api:
        plan = plan_for("batch", user_id, faithful=True, sleep=False, count=5)
        summary = await Emulator(plan, reference_source, transport=api.transport).run()
        settings = api.settings
    assert summary.failed == 0
    lake = tmp_path / "lake"
    info = run_sink(settings.model_copy(update={"lake_url": str(lake)}), once=True)
    assert info.records == 15
    topic = f"{user_id}.pin"
    folder = lake / "topics" / topic / "partition=0"
    first = folder / f"{topic}+0+0000000000.json"
    assert first.stat().st_size == 444  # row 7528, as on the course's S3
    objects = sorted(folder.iterdir())
    assert [o.name for o in objects] == [f"{topic}+0+{n:010d}.json" for n in range(5)]
    rows = [json.loads(o.read_bytes()) for o in objects]
    assert [row["index"] for row in rows] == COURSE_FIRST
    assert all(o.read_bytes().endswith(b"}\n") for o in objects)
