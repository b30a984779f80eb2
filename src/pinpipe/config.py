"""The one Settings object.

Precedence, highest first: command-line flags, ``PINPIPE_*`` environment variables, the TOML
file (``--config FILE`` or ``./pinpipe.toml``), the defaults below. Settings are built once at the
edge (CLI, app factory) and passed down; library code never reads ``os.environ``.

The backend URLs default to files under ``home``, so one ``--home DIR`` moves the whole embedded
pipeline; pointing a URL elsewhere (``mysql+pymysql://…``, ``kafka://…``, ``s3://…``) swaps that
stage's backend without touching the rest.
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pinpipe.errors import ConfigError
from pinpipe.naming import Names

DEFAULT_CONFIG_FILE = Path("pinpipe.toml")
ENV_PREFIX = "PINPIPE_"

BROKER_SCHEMES = ("embedded", "kafka", "kinesis", "memory")
LAKE_SCHEMES = ("file", "memory", "s3")
SOURCE_DIALECTS = ("sqlite", "mysql", "mariadb", "postgresql")

# The values read from the TOML file for the Settings being built (see load_settings).
_file_values: ContextVar[dict[str, Any] | None] = ContextVar("pinpipe_file_values", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmbeddedLogSettings(_Section):
    """The embedded log (SQLite WAL file) behind ``embedded://`` URLs."""

    durability: Literal["fsync", "os", "none"] = Field(
        "fsync",
        description="fsync: each append batch is on disk when acknowledged (SQLite synchronous="
        "FULL); os: survives a process crash, not a power loss (NORMAL); none: tests only (OFF).",
    )
    busy_timeout_ms: int = Field(30_000, ge=0, description="Wait this long for a locked file.")


class KafkaSettings(_Section):
    """Client settings for ``kafka://`` brokers (Kafka, Amazon MSK)."""

    security: Literal["plaintext", "ssl", "sasl-ssl", "msk-iam"] = Field(
        "plaintext", description="msk-iam: SASL OAUTHBEARER with the AWS MSK IAM signer."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    region: str = Field("us-east-1", description="AWS region of the MSK cluster (msk-iam).")
    role_arn: str | None = Field(None, description="Role to assume for msk-iam, if any.")
    ca_location: str | None = Field(None, description="CA bundle for ssl/sasl-ssl.")
    client_config: dict[str, str] = Field(
        default_factory=dict, description="Extra librdkafka properties, passed through."
    )


class KinesisSettings(_Section):
    """Client settings for ``kinesis://REGION`` streams."""

    endpoint_url: str | None = Field(None, description="Another endpoint (moto, a VPC endpoint).")
    shard_count: int = Field(1, ge=1, description="Shards of a stream created by pinpipe.")
    on_demand: bool = Field(False, description="Create streams in on-demand capacity mode.")


class LakeSettings(_Section):
    """Client settings for the lake (``lake_url``)."""

    s3_endpoint_url: str | None = Field(
        None, description="Another S3 endpoint for an s3:// lake (moto, MinIO, a VPC endpoint)."
    )


class SparkSettings(_Section):
    """The Spark batch engine (``engine = "spark"``, extra ``spark``)."""

    master: str = Field("local[*]", description="Master URL: local[*], spark://HOST:7077, yarn.")
    remote: str = Field(
        "", description="Spark Connect / Databricks Connect URL (sc://...); replaces master."
    )
    driver_memory: str = Field("4g", description="Driver heap for a local master.")
    shuffle_partitions: int = Field(
        8, ge=1, description="spark.sql.shuffle.partitions (Spark's 200 suits clusters)."
    )
    conf: dict[str, str] = Field(default_factory=dict, description="More Spark settings.")


class DagSettings(_Section):
    """The Airflow DAG (``pinpipe dag export``): schedule and defaults of SPEC §7.1, and the
    Databricks task of the MWAA variant."""

    owner: str = Field("pinpipe", description="default_args owner.")
    schedule: str = Field("@daily", description="Airflow schedule (cron or preset).")
    start_date: date = Field(date(2026, 1, 1), description="First logical date (catchup off).")
    retries: int = Field(1, ge=0, description="Retries per task.")
    retry_delay_minutes: float = Field(2, ge=0, description="Wait between retries.")
    databricks_conn_id: str = Field("databricks_default", description="MWAA's connection.")
    existing_cluster_id: str = Field(
        "1108-162752-8okw8dgg", description="Cluster the notebook runs on (the course's)."
    )
    notebook_path: str = Field(
        "", description="Databricks notebook of the batch job (/Users/<email>/<notebook>)."
    )
    job_id: int | None = Field(
        None, description="A Databricks job to run instead of the notebook (run-now)."
    )


class ApiSettings(_Section):
    """The ingestion HTTP service (``pinpipe api``)."""

    host: str = "127.0.0.1"
    port: int = Field(8082, ge=0, le=65535, description="8082 is the Kafka REST Proxy's port.")
    api_keys: list[SecretStr] = Field(
        default_factory=list, description="When set, requests need one in `x-api-key`."
    )
    max_body_bytes: int = Field(10 * 2**20, ge=1024, description="API Gateway's 10 MB limit.")
    max_record_bytes: int = Field(1 * 2**20, ge=64, description="Kafka/Kinesis' 1 MB limit.")
    auto_create_topics: bool = Field(False, description="Create unknown topics on produce.")
    max_pending_records: int = Field(
        200_000, ge=1, description="Records waiting for the broker before answering 429."
    )


class Settings(BaseSettings):
    """Everything configurable in pinpipe. See the README's Configuration section."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
    )

    user_id: str = Field(
        "1232252d77df",
        description="The course user id every name derives from (topics, streams, bucket, ...).",
        pattern=r"^[0-9a-z]{1,40}$",
    )
    home: Path = Field(Path("pinpipe-data"), description="Where embedded backends keep files.")
    source_url: str = Field("", description="Source database SQLAlchemy URL.")
    broker_url: str = Field("", description="Broker for topics: embedded://PATH or kafka://HOST.")
    streams_url: str = Field("", description="Broker for streams: embedded://, kinesis://REGION.")
    lake_url: str = Field("", description="Object store: a local path, file://, memory://, s3://.")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="Batch engine.")
    embedded: EmbeddedLogSettings = Field(default_factory=EmbeddedLogSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    kinesis: KinesisSettings = Field(default_factory=KinesisSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)
    dag: DagSettings = Field(default_factory=DagSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_settings = InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {})
        return (init_settings, env_settings, file_settings)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults_from_home(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = {k: v for k, v in data.items() if v not in (None, "")}
        home = Path(values.get("home") or "pinpipe-data").expanduser().resolve()
        values["home"] = home
        values.setdefault("source_url", f"sqlite:///{home / 'source.db'}")
        values.setdefault("broker_url", f"embedded://{home / 'broker.db'}")
        values.setdefault("streams_url", values["broker_url"])
        values.setdefault("lake_url", str(home / "lake"))
        return values

    @field_validator("source_url")
    @classmethod
    def _check_source_url(cls, value: str) -> str:
        dialect = urlsplit(value).scheme.split("+", 1)[0]
        if dialect not in SOURCE_DIALECTS:
            msg = f"dialect {dialect!r} is not supported; use one of {', '.join(SOURCE_DIALECTS)}"
            raise ValueError(msg)
        return value

    @field_validator("broker_url", "streams_url")
    @classmethod
    def _check_broker_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in BROKER_SCHEMES:
            msg = f"scheme {scheme!r} is not supported; use one of {', '.join(BROKER_SCHEMES)}"
            raise ValueError(msg)
        return value

    @field_validator("lake_url")
    @classmethod
    def _check_lake_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme and len(scheme) > 1 and scheme not in LAKE_SCHEMES:  # 1 letter: Windows drive
            msg = f"scheme {scheme!r} is not supported; use a path or one of {LAKE_SCHEMES}"
            raise ValueError(msg)
        return value

    @property
    def names(self) -> Names:
        return Names(self.user_id)

    def display(self) -> dict[str, str]:
        """The effective settings as strings, with secrets and URL passwords masked."""
        return _flatten(self.model_dump())


def _masked(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, list):
        return "[" + ", ".join(_masked(v) for v in value) + "]"
    return mask_url(value) if isinstance(value, str) else str(value)


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    shown: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key != "client_config":
            shown |= _flatten(value, f"{prefix}{key}.")
        else:
            shown[prefix + key] = _masked(value)
    return shown


def mask_url(url: str) -> str:
    """Replace the password in ``scheme://user:password@host/…`` with asterisks."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


def _read_config_file(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    explicit = path is not None
    path = path or DEFAULT_CONFIG_FILE
    if not path.exists():
        if explicit:
            msg = f"config file {str(path)!r} does not exist"
            raise ConfigError(msg, hint="pass an existing file to --config")
        return {}, None
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), path
    except (tomllib.TOMLDecodeError, OSError) as exc:
        msg = f"config file {str(path)!r} cannot be read: {exc}"
        raise ConfigError(msg, hint="fix the TOML syntax") from exc


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the Settings from defaults < TOML file < ``PINPIPE_*`` env < ``overrides`` (flags).

    ``overrides`` whose value is ``None`` are ignored, so CLI options can be passed straight in.
    Raises :class:`ConfigError` naming the bad key and what it accepts.
    """
    file_values, used_file = _read_config_file(config_file)
    flags = {k: v for k, v in overrides.items() if v is not None}
    token = _file_values.set(file_values)
    try:
        return Settings(**flags)
    except ValidationError as exc:
        raise _config_error(exc, used_file) from exc
    finally:
        _file_values.reset(token)


def _config_error(exc: ValidationError, config_file: Path | None) -> ConfigError:
    error = exc.errors()[0]
    key = ".".join(str(p) for p in error["loc"]) or "?"
    env = ENV_PREFIX + key.upper().replace(".", "__")
    where = f"{config_file} key {key!r}" if config_file else f"pinpipe.toml key {key!r}"
    if error["type"] == "extra_forbidden":
        known = ", ".join(Settings.model_fields)
        return ConfigError(
            f"unknown setting {key!r}", hint=f"remove it; the known settings are: {known}"
        )
    reason = error["msg"]
    if error["type"] == "literal_error":
        reason = f"{error['input']!r} is not allowed; allowed values: {error['ctx']['expected']}"
    elif error["type"] == "string_pattern_mismatch":
        reason = f"{error['input']!r} must be lowercase letters and digits only (1-40)"
    return ConfigError(f"invalid setting {key!r}: {reason}", hint=f"set {where} or {env}")
