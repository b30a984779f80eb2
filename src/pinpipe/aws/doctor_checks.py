"""The probes of ``pinpipe doctor``, one per component (see :mod:`pinpipe.aws.doctor`)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pinpipe.aws.doctor import Check, Probe, mask
from pinpipe.config import Settings
from pinpipe.errors import BrokerError, BrokerUnavailableError, PinpipeError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

SOURCE, TOPICS, STREAMS, LAKE, ENGINE, API, AWS = (
    "source",
    "topics",
    "streams",
    "lake",
    "engine",
    "api",
    "aws credentials",
)
POLICY_HINT = "see iam/pinpipe-access-policy.json of pinpipe aws export"
_DB_PORTS = {"mysql": 3306, "mariadb": 3306, "postgresql": 5432}
_AWS_EXTRA = "uv sync --extra aws (pip install 'pinpipe[aws]')"


def _tcp_error(host: str, port: int, timeout: float) -> str | None:
    """Why a TCP connection to ``host:port`` fails within ``timeout``, or None if it opens."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return str(exc) or type(exc).__name__
    return None


def _missing_modules(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _aws_credentials() -> tuple[Credentials | None, str | None]:
    """The standard chain's credentials (env, profile, SSO, instance role) and region; no
    network call except the instance metadata lookup botocore itself bounds."""
    import boto3

    session = boto3.session.Session()
    return session.get_credentials(), session.region_name


def _no_credentials(component: str, url: str) -> Check:
    fix = (
        "set AWS_PROFILE (or run aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "in the environment, or run where an instance/task role applies; pinpipe never reads "
        "keys from its own files"
        if component == AWS
        else f"see the {AWS} row"
    )
    return Check(component, mask(url), "failed", "no AWS credentials in the standard chain", fix)


# -- source -----------------------------------------------------------------------------------


def check_source(settings: Settings, timeout: float) -> Check:
    import sqlalchemy as sa

    from pinpipe.source.db import connect, open_engine, row_counts
    from pinpipe.source.schema import TABLES

    url = settings.source_url
    shown = mask(url)
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    init = "pinpipe source init (synthetic rows) or pinpipe source load (real dumps)"
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).exists():
            return Check(SOURCE, shown, "missing", f"no database file at {database}", init)
    engine = open_engine(url)  # names the extra when the driver is missing
    try:
        if backend != "sqlite":
            host, port = parsed.host or "localhost", parsed.port or _DB_PORTS.get(backend, 0)
            if error := _tcp_error(host, port, timeout):
                return Check(
                    SOURCE,
                    shown,
                    "failed",
                    f"cannot reach {host}:{port}: {error}",
                    "check source_url's host and port, that the server runs, and the network "
                    "path (security group, firewall)",
                )
        with connect(engine) as conn:
            counts = row_counts(conn)
    finally:
        engine.dispose()
    empty = [TABLES[kind].name for kind, rows in counts.items() if not rows]
    if empty:
        return Check(SOURCE, shown, "missing", f"tables absent or empty: {', '.join(empty)}", init)
    rows = ", ".join(f"{TABLES[kind].name} {rows:,}" for kind, rows in counts.items())
    return Check(SOURCE, shown, "ok", f"rows: {rows}")


# -- topics and streams -----------------------------------------------------------------------


def _log_names(settings: Settings, url: str, timeout: float) -> list[str]:
    """The topics (or streams) on the log at ``url``; raises PinpipeError when it cannot."""
    from pinpipe.broker.base import Broker

    parts = urlsplit(url)
    broker: Broker
    if parts.scheme == "embedded":
        from pinpipe.broker.embedded import EmbeddedLog

        broker = EmbeddedLog(parts.netloc + parts.path, settings.embedded)
    elif parts.scheme == "kafka":
        from pinpipe.broker.kafka import KafkaBroker

        kafka = settings.kafka
        limits = {"socket.connection.setup.timeout.ms": str(max(1, int(timeout * 1000)))}
        kafka = kafka.model_copy(update={"client_config": limits | kafka.client_config})
        broker = KafkaBroker(parts.netloc, kafka, timeout=timeout)
    else:  # kinesis
        from pinpipe.broker.kinesis import KinesisBroker

        broker = KinesisBroker(
            parts.netloc or "us-east-1",
            settings.kinesis,
            connect_timeout=timeout,
            read_timeout=timeout,
            max_attempts=1,
        )
    with broker:
        return broker.list_topics()


def _check_log(settings: Settings, timeout: float, *, streams: bool) -> Check:
    component = STREAMS if streams else TOPICS
    url = settings.streams_url if streams else settings.broker_url
    names = settings.names
    expected = list(names.streams if streams else names.topics)
    create = "pinpipe streams create" if streams else "pinpipe topics create"
    parts = urlsplit(url)
    shown = mask(url)
    if parts.scheme == "memory":
        return Check(component, shown, "ok", "in-process log (tests only): nothing to reach")
    if parts.scheme == "embedded" and not Path(parts.netloc + parts.path).exists():
        detail = f"no log file at {parts.netloc + parts.path} yet"
        return Check(component, shown, "missing", detail, f"{create} (pinpipe api creates them)")
    msk_iam = parts.scheme == "kafka" and settings.kafka.security == "msk-iam"
    if parts.scheme == "kinesis" or msk_iam:
        if _missing_modules("boto3"):
            return Check(component, shown, "failed", "boto3 is not installed", _AWS_EXTRA)
        if _aws_credentials()[0] is None:
            return _no_credentials(component, url)
    try:
        present = set(_log_names(settings, url, timeout))
    except BrokerUnavailableError as exc:
        return Check(component, shown, "failed", exc.message, _unreachable_fix(settings, url))
    except BrokerError as exc:
        return Check(component, shown, "failed", exc.message, _refused_fix(settings, url, exc))
    absent = [n for n in expected if n not in present]
    if absent:
        fix = f"{create} {' '.join(absent)}"
        if parts.scheme == "kinesis":
            fix += " (kinesis:CreateStream), or deploy cloudformation/pinpipe.json"
        elif parts.scheme == "kafka" and settings.kafka.security == "msk-iam":
            fix += " (kafka-cluster:CreateTopic); a topic you may not describe is invisible"
        return Check(component, shown, "missing", f"absent: {', '.join(absent)}", fix)
    return Check(component, shown, "ok", f"{', '.join(expected)} present ({len(present)} in all)")


def _unreachable_fix(settings: Settings, url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme == "kinesis":
        return "check the region in kinesis://REGION, kinesis.endpoint_url and the network"
    ports = {"msk-iam": 9098, "sasl-ssl": 9096, "ssl": 9094, "plaintext": 9092}
    port = ports[settings.kafka.security]
    fix = (
        f"check broker_url and that this machine reaches the brokers (on MSK: the security "
        f"group allows port {port} from here) and kafka.security ({settings.kafka.security})"
    )
    if settings.kafka.security == "msk-iam":
        fix += "; MSK IAM needs kafka-cluster:Connect on the cluster"
    return fix


def _refused_fix(settings: Settings, url: str, exc: PinpipeError) -> str:
    scheme = urlsplit(url).scheme
    if scheme == "kinesis":
        return f"allow kinesis:ListStreams and kinesis:DescribeStreamSummary ({POLICY_HINT})"
    if scheme == "kafka" and settings.kafka.security == "msk-iam":
        return f"allow kafka-cluster:Connect and kafka-cluster:DescribeTopic ({POLICY_HINT})"
    if scheme == "kafka" and settings.kafka.security == "sasl-ssl":
        return "check kafka.username, PINPIPE_KAFKA__PASSWORD and kafka.sasl_mechanism"
    return exc.hint or "see the message"


def check_topics(settings: Settings, timeout: float) -> Check:
    return _check_log(settings, timeout, streams=False)


def check_streams(settings: Settings, timeout: float) -> Check:
    return _check_log(settings, timeout, streams=True)


# -- lake -------------------------------------------------------------------------------------


def check_lake(settings: Settings, timeout: float) -> Check:
    url = settings.lake_url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return Check(LAKE, url, "ok", "in-process lake (tests only): nothing kept")
    if scheme == "s3":
        return _check_s3(settings, timeout)
    path = Path(parts.path if scheme == "file" else url).expanduser()
    if path.exists():
        if not path.is_dir():
            return Check(LAKE, url, "failed", f"{path} is not a directory", "point lake_url at one")
        if not os.access(path, os.W_OK | os.X_OK):
            return Check(LAKE, url, "failed", f"{path} is not writable", "fix its permissions")
        raw = "raw objects under topics/" if (path / "topics").is_dir() else "no raw objects yet"
        return Check(LAKE, url, "ok", f"writable directory; {raw}")
    ancestor = next(p for p in path.absolute().parents if p.exists())
    if os.access(ancestor, os.W_OK | os.X_OK):
        return Check(LAKE, url, "ok", "created on first write (its parent is writable)")
    fix = "point lake_url at a writable place"
    return Check(LAKE, url, "failed", f"{ancestor} is not writable", fix)


def _check_s3(settings: Settings, timeout: float) -> Check:
    url = settings.lake_url
    missing = _missing_modules("s3fs", "boto3")
    if missing:
        detail = f"an s3:// lake needs {', '.join(missing)}, which is not installed"
        return Check(LAKE, url, "failed", detail, _AWS_EXTRA)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if _aws_credentials()[0] is None:
        return _no_credentials(LAKE, url)
    parts = urlsplit(url)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    endpoint = settings.lake.s3_endpoint_url
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    client: Any = boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    try:
        client.head_bucket(Bucket=bucket)
        raw = f"{prefix}/topics/" if prefix else "topics/"
        page = client.list_objects_v2(Bucket=bucket, Prefix=raw, MaxKeys=1)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code", "?")
        if status == 404 or code in ("404", "NoSuchBucket"):
            fix = f"deploy cloudformation/pinpipe.json of pinpipe aws export, or create {bucket}"
            return Check(LAKE, url, "missing", f"bucket {bucket} does not exist", fix)
        if status == 403 or code in ("403", "AccessDenied"):
            fix = f"allow s3:ListBucket on {bucket_arn} ({POLICY_HINT})"
            return Check(LAKE, url, "failed", f"access to bucket {bucket} denied", fix)
        return Check(LAKE, url, "failed", f"S3 answered {code}: {exc}", "see the S3 error code")
    except NoCredentialsError:
        return _no_credentials(LAKE, url)
    except BotoCoreError as exc:
        where = endpoint or "AWS"
        fix = "check lake.s3_endpoint_url (PINPIPE_LAKE__S3_ENDPOINT_URL), the region, network"
        return Check(LAKE, url, "failed", f"cannot reach S3 at {where}: {exc}", fix)
    found = "raw objects under topics/" if page.get("KeyCount", 0) else "no raw objects yet"
    return Check(LAKE, url, "ok", f"bucket {bucket} reachable; {found}")


# -- engine -----------------------------------------------------------------------------------


def _engine_url(settings: Settings) -> str:
    if settings.engine == "duckdb":
        return "duckdb"
    return f"spark {settings.spark.remote or settings.spark.master}"


def check_engine(settings: Settings, timeout: float) -> Check:
    url = mask(_engine_url(settings))
    if settings.engine == "duckdb":
        import duckdb

        return Check(ENGINE, url, "ok", f"DuckDB {duckdb.__version__}, in-process")
    missing = _missing_modules("pyspark", "sqlglot")
    if missing:
        detail = f"the Spark engine needs {', '.join(missing)}, which is not installed"
        return Check(ENGINE, url, "failed", detail, "uv sync --extra spark (pinpipe[spark])")
    version = importlib.metadata.version("pyspark")
    spark = settings.spark
    if spark.remote:
        connect_deps = _missing_modules("grpc", "grpc_status", "google.protobuf", "pandas")
        if connect_deps:
            detail = f"Spark Connect needs {', '.join(connect_deps)}, which is not installed"
            return Check(
                ENGINE, url, "failed", detail, f"pip install 'pyspark[connect]=={version}'"
            )
        remote = urlsplit(spark.remote.split(";", 1)[0])
        host, port = remote.hostname or "localhost", remote.port or 15002
        if error := _tcp_error(host, port, timeout):
            fix = (
                "check spark.remote (PINPIPE_SPARK__REMOTE) and that the server (or the "
                "Databricks cluster) is running; Databricks: "
                "sc://<workspace-host>:443/;token=<token>;x-databricks-cluster-id=<cluster-id>"
            )
            return Check(ENGINE, url, "failed", f"cannot reach {host}:{port}: {error}", fix)
        detail = f"PySpark {version}; Spark Connect at {host}:{port} reachable (no session started)"
        return Check(ENGINE, url, "ok", detail)
    if spark.master.startswith("local"):
        java_home = os.environ.get("JAVA_HOME")
        java = shutil.which("java", path=f"{java_home}/bin") if java_home else None
        java = java or shutil.which("java")
        if java is None:
            fix = "install Java 17 or 21 (Spark 4 runs on them), or set JAVA_HOME"
            return Check(ENGINE, url, "failed", "no Java runtime on PATH or in JAVA_HOME", fix)
        detail = f"PySpark {version}, Java at {java} (a session takes ~7 s to start; not started)"
        return Check(ENGINE, url, "ok", detail)
    if spark.master.startswith("spark://"):
        first = spark.master.removeprefix("spark://").split(",")[0]
        master_host, _, master_port = first.partition(":")
        if error := _tcp_error(master_host, int(master_port or 7077), timeout):
            fix = "check spark.master (PINPIPE_SPARK__MASTER) and that the master runs"
            return Check(ENGINE, url, "failed", f"cannot reach {first}: {error}", fix)
        return Check(ENGINE, url, "ok", f"PySpark {version}; master {first} reachable")
    return Check(ENGINE, url, "ok", f"PySpark {version}; master {spark.master} (not probed)")


# -- api --------------------------------------------------------------------------------------


def _api_url(settings: Settings) -> str:
    host = settings.api.host
    probe = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://{f'[{probe}]' if ':' in probe else probe}:{settings.api.port}"


def check_api(settings: Settings, timeout: float) -> Check:
    import httpx

    url = _api_url(settings)
    if settings.api.port == 0:
        return Check(API, url, "ok", "port 0: pinpipe api picks a free port when it starts")
    port_fix = "stop what listens there, or set api.port (PINPIPE_API__PORT)"
    try:
        response = httpx.get(f"{url}/healthz", timeout=timeout)
    except httpx.ConnectError:
        bind_error = _bind_error(settings.api.host, settings.api.port)
        if bind_error is None:
            detail = "not running; the port is free (start it: pinpipe api or pinpipe up)"
            return Check(API, url, "ok", detail)
        detail = f"nothing answers HTTP there, and the port cannot be bound: {bind_error}"
        return Check(API, url, "failed", detail, f"{port_fix}, or api.host to a local address")
    except httpx.HTTPError as exc:
        return Check(API, url, "failed", f"no answer to /healthz: {exc}", port_fix)
    status = None
    if response.status_code == 200:
        try:
            status = response.json().get("status")
        except ValueError:
            status = None
    if status in ("ok", "starting"):
        return Check(API, url, "ok", f"pinpipe api answering (/healthz: {status})")
    detail = f"/healthz answered HTTP {response.status_code}: not pinpipe api"
    return Check(API, url, "failed", detail, port_fix)


def _bind_error(host: str, port: int) -> str | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as exc:
            return str(exc)
    return None


# -- AWS credentials ----------------------------------------------------------------------------


def uses_aws(settings: Settings) -> bool:
    schemes = {urlsplit(u).scheme for u in (settings.broker_url, settings.streams_url)}
    msk_iam = "kafka" in schemes and settings.kafka.security == "msk-iam"
    return "kinesis" in schemes or msk_iam or urlsplit(settings.lake_url).scheme == "s3"


def check_credentials(settings: Settings, timeout: float) -> Check:
    profile = os.environ.get("AWS_PROFILE")
    url = f"profile {profile}" if profile else "default chain"
    if _missing_modules("boto3"):
        return Check(AWS, url, "failed", "boto3 is not installed", _AWS_EXTRA)
    credentials, region = _aws_credentials()
    if credentials is None:
        return _no_credentials(AWS, url)
    detail = f"found ({credentials.method}); region {region or 'not set (from the URLs)'}"
    if settings.kafka.security == "msk-iam" and settings.kafka.role_arn:
        detail += f"; MSK assumes {settings.kafka.role_arn}"
    return Check(AWS, url, "ok", detail)


PROBES: tuple[Probe, ...] = (
    Probe(SOURCE, lambda s: s.source_url, check_source),
    Probe(TOPICS, lambda s: s.broker_url, check_topics),
    Probe(STREAMS, lambda s: s.streams_url, check_streams),
    Probe(LAKE, lambda s: s.lake_url, check_lake),
    Probe(ENGINE, _engine_url, check_engine),
    Probe(API, _api_url, check_api),
    Probe(AWS, lambda _s: "default chain", check_credentials, uses_aws),
)

__all__ = [
    "PROBES",
    "check_api",
    "check_credentials",
    "check_engine",
    "check_lake",
    "check_source",
    "check_streams",
    "check_topics",
    "uses_aws",
]
