from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pinpipe.errors import LoadError
from pinpipe.records import GEO, PIN, USER
from pinpipe.source.dumps import read_dump


def test_reads_reference_geo_csv(reference_dir: Path) -> None:
    rows = list(read_dump(reference_dir / "geolocation_data.csv", GEO))
    assert len(rows) == 11_154
    assert rows[0] == (
        0,
        datetime(2019, 1, 1, 7, 21, 13, tzinfo=UTC),
        -88.8298,
        -170.188,
        "Albania",
    )


def test_reads_reference_pin_jsonl_ignoring_extra_keys(reference_dir: Path) -> None:
    rows = list(read_dump(reference_dir / "pinterest_data_observed_raw.jsonl", PIN))
    assert len(rows) == 1_959
    by_key = {r[0]: r for r in rows}
    assert by_key[7528][4] == "User Info Error"
    assert by_key[4727][7] is None  # the one NULL is_image_or_video, allowed


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "u.csv", "ind,first_name,age,date_joined\n0,A,20,2015-10-21 00:00:00\n")
    with pytest.raises(LoadError) as info:
        list(read_dump(path, USER))
    assert (info.value.line, info.value.column) == (1, "last_name")
    assert "u.csv:1" in info.value.message


def test_bad_value_names_file_line_column(tmp_path: Path) -> None:
    text = "ind,first_name,last_name,age,date_joined\n0,A,B,20,2015-10-21 00:00:00\n1,C,D,x,2015\n"
    path = write(tmp_path, "u.csv", text)
    with pytest.raises(LoadError) as info:
        list(read_dump(path, USER))
    assert (info.value.file, info.value.line, info.value.column) == (str(path), 3, "age")


def test_bad_datetime(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "g.jsonl",
        '{"ind":0,"timestamp":"yesterday","latitude":1,"longitude":2,"country":"X"}\n',
    )
    with pytest.raises(LoadError, match=r"g\.jsonl:1 column 'timestamp'"):
        list(read_dump(path, GEO))


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ('{"ind":"0","timestamp":null,"latitude":1,"longitude":2,"country":"X"}', "ind"),
        ('{"ind":0,"timestamp":null,"latitude":"1","longitude":2,"country":"X"}', "latitude"),
        ('{"ind":0,"timestamp":null,"latitude":1,"longitude":2,"country":5}', "country"),
        ('{"ind":null,"timestamp":null,"latitude":1,"longitude":2,"country":"X"}', "ind"),
        ('{"ind":true,"timestamp":null,"latitude":1,"longitude":2,"country":"X"}', "ind"),
    ],
)
def test_json_types_are_checked(tmp_path: Path, line: str, column: str) -> None:
    path = write(tmp_path, "g.jsonl", line + "\n")
    with pytest.raises(LoadError) as info:
        list(read_dump(path, GEO))
    assert info.value.column == column


def test_invalid_json_line(tmp_path: Path) -> None:
    good = '{"ind":0,"timestamp":null,"latitude":1,"longitude":2,"country":"X"}'
    path = write(tmp_path, "g.jsonl", good + "\n\n{oops\n")
    with pytest.raises(LoadError, match="not valid JSON") as info:
        list(read_dump(path, GEO))
    assert info.value.line == 3


def test_duplicate_key(tmp_path: Path) -> None:
    row = '{"ind":0,"timestamp":null,"latitude":1,"longitude":2,"country":"X"}\n'
    with pytest.raises(LoadError, match="duplicate key ind=0") as info:
        list(read_dump(write(tmp_path, "g.jsonl", row * 2), GEO))
    assert info.value.line == 2


def test_ragged_csv_row(tmp_path: Path) -> None:
    path = write(tmp_path, "u.csv", "ind,first_name,last_name,age,date_joined\n0,A,B\n")
    with pytest.raises(LoadError, match="wrong number of fields"):
        list(read_dump(path, USER))


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unknown format"):
        list(read_dump(write(tmp_path, "u.parquet", ""), USER))
    with pytest.raises(LoadError, match="no such file"):
        list(read_dump(tmp_path / "absent.csv", USER))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes(b"ind,first_name,last_name,age,date_joined\n0,\xff,B,20,\n")
    with pytest.raises(LoadError, match="not UTF-8"):
        list(read_dump(path, USER))
