"""The sink end to end: a broker (the embedded log, the Kafka mock cluster) into a local lake."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson
import pytest

from pinpipe.broker import Broker, OutRecord
from pinpipe.config import Settings
from pinpipe.lake import Lake
from pinpipe.sink import SinkConfigError, SinkError, parse_object_key, run_sink
from tests.sink.conftest import append_json, lake_contents, sink_once

GROUP_OF = "connect-{uid}-connector"


def pins(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"index": i, "title": f"pin {i} — é", "downloaded": 1} for i in range(start, start + n)]


def line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value) + b"\n"


def make_topics(broker: Broker, uid: str, partitions: int = 1) -> tuple[str, str, str]:
    names = (f"{uid}.pin", f"{uid}.geo", f"{uid}.user")
    for name in names:
        broker.create_topic(name, partitions)
    return names


def test_once_on_an_empty_broker(settings: Settings, broker: Broker, lake: Lake) -> None:
    info = sink_once(settings, broker, lake)
    assert (info.records, info.objects, info.stopped) == (0, 0, "drained")
    assert lake.list() == []


def test_once_on_empty_topics(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    make_topics(broker, uid)
    info = sink_once(settings, broker, lake)
    assert [t.topic for t in info.topics] == sorted([f"{uid}.geo", f"{uid}.pin", f"{uid}.user"])
    assert info.objects == 0 and lake.list() == []


def test_flush_size_1_writes_one_object_per_record(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, geo, _ = make_topics(broker, uid)
    append_json(broker, pin, pins(3))
    append_json(broker, geo, [{"ind": 1, "latitude": -88.8298}])
    info = sink_once(settings, broker, lake)
    assert lake_contents(lake) == {
        f"topics/{pin}/partition=0/{pin}+0+{i:010d}.json": line(v) for i, v in enumerate(pins(3))
    } | {f"topics/{geo}/partition=0/{geo}+0+0000000000.json": b'{"ind":1,"latitude":-88.8298}\n'}
    assert (info.name, info.group) == (f"{uid}-connector", GROUP_OF.format(uid=uid))
    assert broker.committed(info.group, pin) == {0: 3}
    pin_info = next(t for t in info.topics if t.topic == pin)
    assert (pin_info.records, pin_info.objects, pin_info.offsets) == (3, 3, {0: 3})
    assert pin_info.bytes == sum(len(line(v)) for v in pins(3))


def test_flush_size_cuts_and_once_drains_the_rest(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, pins(10))
    sink_once(settings, broker, lake, flush_size=4)
    objects = lake_contents(lake)
    assert [parse_object_key(k)[2] for k in objects] == [0, 4, 8]  # 4 + 4 + the drained 2
    assert b"".join(objects.values()) == b"".join(line(v) for v in pins(10))


def test_once_stops_at_the_end_offsets_seen_at_the_start(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, pins(3))
    appended: list[int] = []

    def append_more(_: object) -> None:
        if not appended:
            append_json(broker, pin, pins(2, start=3))
            appended.append(2)

    info = sink_once(settings, broker, lake, max_records=1, on_progress=append_more)
    assert appended and info.records == 3
    assert broker.committed(info.group, pin) == {0: 3}
    assert sink_once(settings, broker, lake).records == 2


def test_a_second_run_continues_at_the_committed_offset(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, pins(5))
    sink_once(settings, broker, lake, flush_size=2)
    append_json(broker, pin, pins(3, start=5))
    info = sink_once(settings, broker, lake, flush_size=2)
    assert info.records == 3
    assert [parse_object_key(k)[2] for k in lake.list()] == [0, 2, 4, 5, 7]
    assert b"".join(lake_contents(lake).values()) == b"".join(line(v) for v in pins(8))


def test_spaced_json_from_other_clients_is_rewritten_compact(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, [b'{ "index" : 1 ,\n "t" : "\\u00e9" , "f" : 1e21 }'])
    sink_once(settings, broker, lake)
    assert list(lake_contents(lake).values()) == ['{"index":1,"t":"é","f":1.0E21}\n'.encode()]


def test_field_order_connect(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, [{"z": 1, "b": 2, "a": 3}])
    sink_once(settings, broker, lake, field_order="connect")
    assert list(lake_contents(lake).values()) == [b'{"a":3,"b":2,"z":1}\n']


def test_dead_letters(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    """Bad values go to <topic>.dlq with the reason; the offset advances past them."""
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, [pins(1)[0], b"not json", b"null", pins(2)[1], b'{"a":'])
    info = sink_once(settings, broker, lake, flush_size=2)
    assert broker.committed(info.group, pin) == {0: 5}
    (obj,) = lake_contents(lake).items()
    assert obj == (
        f"topics/{pin}/partition=0/{pin}+0+0000000000.json",
        b"".join(map(line, pins(2))),
    )
    letters = [orjson.loads(r.value) for r in broker.read(f"{pin}.dlq", 0, 0, 100)]
    assert [(d["topic"], d["partition"], d["offset"]) for d in letters] == [
        (pin, 0, 1),
        (pin, 0, 2),
        (pin, 0, 4),
    ]
    assert base64.b64decode(letters[0]["value_b64"]) == b"not json"
    assert "not valid JSON" in letters[0]["reason"] and "null" in letters[1]["reason"]
    assert info.dead_letters == 3
    # the dead-letter topic matches <uid>\..* but is never consumed itself
    again = sink_once(settings, broker, lake)
    assert f"{pin}.dlq" not in [t.topic for t in again.topics]


def test_dead_letter_topic_name_is_configurable(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, [b"x"])
    sink_once(settings, broker, lake, dlq_topic=f"{uid}-dead-letters")
    assert len(broker.read(f"{uid}-dead-letters", 0, 0)) == 1


def test_rotate_interval_cuts_by_record_time_and_replays_the_same(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    """Cuts depend on broker timestamps only: a second sink (new group) makes the same ones."""
    pin, _, _ = make_topics(broker, uid)
    for batch in (pins(3), pins(2, 3), pins(1, 5)):
        append_json(broker, pin, batch)
        time.sleep(0.25)
    stamps = [r.timestamp_ms for r in broker.read(pin, 0, 0, 100)]
    info = sink_once(settings, broker, lake, flush_size=100, rotate_interval_ms=200)
    first = lake_contents(lake)
    expected, start = [], 0
    for i, ts in enumerate(stamps):
        if ts - stamps[start] >= 200:
            expected.append(start)
            start = i
    expected.append(start)
    assert [parse_object_key(k)[2] for k in first] == expected
    assert len(expected) >= 2, stamps
    assert info.records == 6
    for key in first:
        lake.delete(key)
    sink_once(settings, broker, lake, flush_size=100, rotate_interval_ms=200, name="replay")
    assert lake_contents(lake) == first


def test_time_partitioner_keys(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    _, geo, _ = make_topics(broker, uid)
    values = [
        {"ind": 1, "timestamp": "2020-08-28 03:52:47"},
        {"ind": 2, "timestamp": "2021-01-01 10:00:00"},
        {"ind": 3, "timestamp": "2020-08-28 03:59:00"},
    ]
    append_json(broker, geo, values)
    append_json(broker, geo, [b'{"timestamp":"2022-02-02 02:02:02","s":"\\ud800"}'])
    sink_once(settings, broker, lake, partitioner="time", flush_size=3)
    assert lake_contents(lake) == {
        f"topics/{geo}/dt=2020-08-28/hour=03/{geo}+0+0000000000.json": line(values[0])
        + line(values[2]),
        f"topics/{geo}/dt=2021-01-01/hour=10/{geo}+0+0000000001.json": line(values[1]),
        f"topics/{geo}/dt=2022-02-02/hour=02/{geo}+0+0000000003.json": (
            b'{"timestamp":"2022-02-02 02:02:02","s":"\\uD800"}\n'
        ),
    }


def test_parquet_objects(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import io

    pin, _, _ = make_topics(broker, uid)
    append_json(broker, pin, [*pins(3), b"[1]"])
    sink_once(settings, broker, lake, format="parquet", flush_size=2)
    keys = lake.list()
    assert keys == [f"topics/{pin}/partition=0/{pin}+0+{o:010d}.parquet" for o in (0, 2)]
    rows = [r for k in keys for r in pq.read_table(io.BytesIO(lake.get(k))).to_pylist()]
    assert rows == pins(3)
    assert len(broker.read(f"{pin}.dlq", 0, 0)) == 1


def test_several_partitions(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    pin = f"{uid}.pin"
    broker.create_topic(pin, 3)
    for p in range(3):
        append_json(broker, pin, pins(p + 1, start=10 * p), partition=p)
    info = sink_once(settings, broker, lake, flush_size=2)
    assert [parse_object_key(k)[1:] for k in lake.list()] == [(0, 0), (1, 0), (2, 0), (2, 2)]
    assert broker.committed(info.group, pin) == {0: 1, 1: 2, 2: 3}


def test_topics_regex_and_name(settings: Settings, broker: Broker, lake: Lake, uid: str) -> None:
    pin, geo, _ = make_topics(broker, uid)
    append_json(broker, pin, pins(1))
    append_json(broker, geo, [{"ind": 1}])
    info = sink_once(settings, broker, lake, topics_regex=rf"{uid}\.geo", name="mine")
    assert [t.topic for t in info.topics] == [geo] and info.group == "connect-mine"
    assert lake.list() == [f"topics/{geo}/partition=0/{geo}+0+0000000000.json"]
    with pytest.raises(SinkConfigError, match="does not compile"):
        sink_once(settings, broker, lake, topics_regex="(")


def test_a_broker_without_groups_is_refused(settings: Settings, lake: Lake) -> None:
    from pinpipe.broker import InMemoryBroker

    class NoGroups(InMemoryBroker):
        supports_groups = False

    with pytest.raises(SinkError, match="consumer-group"):
        sink_once(settings, NoGroups(), lake)


def test_keyed_records_keep_their_key_in_the_dead_letter(
    settings: Settings, broker: Broker, lake: Lake, uid: str
) -> None:
    pin, _, _ = make_topics(broker, uid)
    broker.append(pin, [OutRecord(b"bad", key=b"k1", partition=0)])
    sink_once(settings, broker, lake)
    (letter,) = broker.read(f"{pin}.dlq", 0, 0)
    assert letter.key == b"k1"


def test_run_sink_opens_broker_and_lake_from_settings(tmp_path: Any, uid: str) -> None:
    from pinpipe.broker.embedded import EmbeddedLog

    settings = Settings(home=tmp_path, user_id=uid)
    with EmbeddedLog(tmp_path / "broker.db") as log:
        log.create_topic(f"{uid}.pin")
        append_json(log, f"{uid}.pin", pins(2))
    info = run_sink(settings, once=True)
    assert info.lake_url == str(tmp_path / "lake") and info.objects == 2
    assert (tmp_path / "lake" / "topics" / f"{uid}.pin" / "partition=0").is_dir()
