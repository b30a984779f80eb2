from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.config import Settings, load_settings, mask_url
from pinpipe.errors import ConfigError


def test_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    home = tmp_path / "pinpipe-data"
    assert settings.user_id == "1232252d77df"
    assert settings.home == home
    assert settings.source_url == f"sqlite:///{home / 'source.db'}"
    assert settings.broker_url == f"embedded://{home / 'broker.db'}"
    assert settings.streams_url == settings.broker_url
    assert settings.lake_url == str(home / "lake")
    assert settings.engine == "duckdb"


def test_precedence_file_env_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pinpipe.toml").write_text('user_id = "aaaa"\nengine = "spark"\nhome = "h1"\n')
    assert load_settings().user_id == "aaaa"
    assert load_settings().home == tmp_path / "h1"
    monkeypatch.setenv("PINPIPE_USER_ID", "bbbb")
    monkeypatch.setenv("PINPIPE_HOME", str(tmp_path / "h2"))
    settings = load_settings()
    assert (settings.user_id, settings.engine, settings.home) == ("bbbb", "spark", tmp_path / "h2")
    flagged = load_settings(home=tmp_path / "h3", user_id="cccc", engine=None)
    assert (flagged.user_id, flagged.home, flagged.engine) == ("cccc", tmp_path / "h3", "spark")
    assert flagged.source_url == f"sqlite:///{tmp_path / 'h3' / 'source.db'}"


def test_explicit_config_file(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('broker_url = "kafka://127.0.0.1:9092"\n')
    settings = load_settings(config)
    assert settings.broker_url == "kafka://127.0.0.1:9092"
    assert settings.streams_url == "kafka://127.0.0.1:9092"


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("user_id = \n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_settings(config)


def test_invalid_engine_names_key_and_allowed_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PINPIPE_ENGINE", "pandas")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "'engine'" in info.value.message
    assert "'duckdb'" in info.value.message and "'spark'" in info.value.message
    assert info.value.hint is not None and "PINPIPE_ENGINE" in info.value.hint


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("user_id", "Not-Valid", "lowercase letters and digits"),
        ("source_url", "oracle://x/y", "sqlite"),
        ("broker_url", "rabbit://x", "embedded"),
        ("lake_url", "gs://bucket", "s3"),
    ],
)
def test_invalid_values(tmp_path: Path, key: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, home=tmp_path, **{key: value})
    assert repr(key) in info.value.message
    assert fragment in info.value.message


def test_unknown_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('usr_id = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'usr_id'") as info:
        load_settings(config)
    assert info.value.hint is not None and "user_id" in info.value.hint


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        settings.user_id = "x"  # type: ignore[misc]


def test_display_masks_passwords(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, source_url="mysql+pymysql://bob:s3cret@db:3306/p")
    shown = settings.display()
    assert "s3cret" not in str(shown)
    assert shown["source_url"] == "mysql+pymysql://bob:***@db:3306/p"


def test_mask_url_leaves_plain_urls() -> None:
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"
    assert mask_url("kafka://u:p@h:9092") == "kafka://u:***@h:9092"


def test_names_follow_user_id(tmp_path: Path) -> None:
    assert load_settings(home=tmp_path, user_id="abc").names.topic("pin") == "abc.pin"
    assert isinstance(load_settings(home=tmp_path), Settings)


def test_nested_sections_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[kafka]\nsecurity = "msk-iam"\nregion = "eu-west-1"\n[api]\nport = 9000\n')
    monkeypatch.setenv("PINPIPE_API__PORT", "9100")
    monkeypatch.setenv("PINPIPE_KAFKA__PASSWORD", "topsecret")
    settings = load_settings(config)
    assert settings.kafka.security == "msk-iam" and settings.kafka.region == "eu-west-1"
    assert settings.api.port == 9100
    shown = settings.display()
    assert shown["kafka.password"] == "**********"
    assert "topsecret" not in str(shown)


def test_nested_invalid_value_names_dotted_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[kafka]\nsecurity = "kerberos"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "'kafka.security'" in info.value.message
    assert info.value.hint is not None and "PINPIPE_KAFKA__SECURITY" in info.value.hint
