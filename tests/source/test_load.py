"""``source load`` of the real reference dumps: counts, atomicity, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.errors import LoadError, MissingExtraError, SourceConnectError, SourceError
from pinpipe.source import SourceReader, load_source


def reference_files(reference_dir: Path) -> dict[str, Path]:
    return {
        "pin": reference_dir / "pinterest_data_observed_raw.jsonl",
        "geo": reference_dir / "geolocation_data.csv",
        "user": reference_dir / "user_data.csv",
    }


def corrupt(src: Path, dst: Path, line: int, old: str, new: str) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    dst.write_text("".join(lines), encoding="utf-8")
    return dst


def corrupt_csv_field(src: Path, dst: Path, line: int, field: int, value: str) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[line - 1].rstrip("\n").split(",")
    cells[field] = value
    lines[line - 1] = ",".join(cells) + "\n"
    dst.write_text("".join(lines), encoding="utf-8")
    return dst


def check_reference_load(url: str, reference_dir: Path, tmp_path: Path) -> None:
    """Shared by the SQLite test here and the MariaDB integration test."""
    files = reference_files(reference_dir)
    info = load_source(url, files)  # type: ignore[arg-type]
    assert dict(info.rows) == {"pin": 1_959, "geo": 11_154, "user": 11_154}
    with SourceReader(url) as reader:
        assert reader.count("geo") == 11_154
        assert reader.row("user", 2015) is not None
        assert reader.row("user", 2015)["first_name"] == "Christopher"  # type: ignore[index]
        pin = reader.row("pin", 7528)
        assert pin is not None and pin["poster_name"] == "User Info Error"
        emoji = reader.row("pin", 1691)
        assert emoji is not None and emoji["title"] == "Christmas lights🌌🌌💫"
        before = reader.row("geo", 5000)

    # A corrupted copy (bad latitude on line 5002 = ind 5000) is rejected with file/line/column
    # and leaves every table exactly as it was, even with --replace.
    bad = corrupt_csv_field(files["geo"], tmp_path / "geo_bad.csv", 5002, 3, "oops")
    with pytest.raises(LoadError) as err:
        load_source(url, {"user": files["user"], "geo": bad}, replace=True)
    assert (err.value.file, err.value.line) == (str(bad), 5002)
    assert err.value.column == "latitude"
    with SourceReader(url) as reader:
        assert reader.count("geo") == 11_154 and reader.count("user") == 11_154
        assert reader.row("geo", 5000) == before

    # Without --replace a filled table is refused; with it the load replaces the rows.
    with pytest.raises(SourceError, match="--replace"):
        load_source(url, {"user": files["user"]})
    again = load_source(url, {"user": files["user"]}, replace=True)
    assert again.rows["user"] == 11_154


def test_load_reference_into_sqlite(reference_dir: Path, tmp_path: Path) -> None:
    check_reference_load(f"sqlite:///{tmp_path / 'src.db'}", reference_dir, tmp_path)


def test_load_needs_a_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no file"):
        load_source(f"sqlite:///{tmp_path / 'src.db'}", {})


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("ind,first_name,last_name,age,date_joined\n")
    with pytest.raises(LoadError, match="no rows"):
        load_source(f"sqlite:///{tmp_path / 'src.db'}", {"user": path})


def test_bad_pin_jsonl_copy(reference_dir: Path, tmp_path: Path) -> None:
    src = reference_dir / "pinterest_data_observed_raw.jsonl"
    bad = corrupt(src, tmp_path / "pin.jsonl", 7, '"downloaded": ', '"downloaded": "yes", "x": ')
    with pytest.raises(LoadError) as err:
        load_source(f"sqlite:///{tmp_path / 'src.db'}", {"pin": bad})
    assert (err.value.line, err.value.column) == (7, "downloaded")


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("mysql+pymysql://u:p@127.0.0.1:1/db", "pymysql", "mysql"),
        ("mysql://u:p@127.0.0.1:1/db", "pymysql", "mysql"),
        ("postgresql://u:p@127.0.0.1:1/db", "psycopg", "postgres"),
    ],
)
def test_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    with pytest.raises(MissingExtraError) as info:
        load_source(url, {"user": Path("x.csv")})
    assert f"pinpipe[{extra}]" in str(info.value.hint)


def test_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    from tests.servers import free_port

    url = f"mysql+pymysql://root:secret@127.0.0.1:{free_port()}/pinterest_data"
    with pytest.raises(SourceConnectError) as info:
        load_source(url, {"user": tmp_path / "u.csv"})
    assert "secret" not in info.value.message
    assert "127.0.0.1" in info.value.message
