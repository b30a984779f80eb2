"""Real servers for the integration tests, started as subprocesses on 127.0.0.1.

Each server gets a free port and a private data directory, and is ended by its PID when the
test session finishes. CI installs the packages (./dev test); when a binary is missing the
fixture fails under CI and skips with the reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(what: str) -> None:
    reason = f"{what} is not installed (./dev test installs it with apt-get as root)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _find(*candidates: str) -> str | None:
    for name in candidates:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def _connect_when_up(
    connect: Callable[[], T],
    refused: type[Exception],
    proc: subprocess.Popen[bytes],
    log: Path,
    what: str,
    timeout: float = 60.0,
) -> T:
    """A connection to a server that is starting; fails the test with its log if it dies or
    does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect()
        except refused:
            if proc.poll() is not None or time.monotonic() > deadline:
                output = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"{what} did not start:\n{output}")
            time.sleep(0.2)


@contextmanager
def mariadb_server(workdir: Path) -> Iterator[str]:
    """A throw-away MariaDB on 127.0.0.1; yields the root URL of database ``pinterest_data``."""
    mariadbd = _find("mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld")
    install_db = _find("mariadb-install-db", "mysql_install_db")
    if not mariadbd or not install_db:
        _missing("mariadb-server")
    assert mariadbd and install_db
    datadir, sock = workdir / "data", workdir / "mysqld.sock"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install_db,
            f"--datadir={datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *user,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (workdir / "mariadbd.log").open("wb")
    proc = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={workdir / 'mariadbd.pid'}",
            "--innodb-buffer-pool-size=64M",
            "--character-set-server=utf8mb4",
            *user,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import pymysql

        conn = _connect_when_up(
            lambda: pymysql.connect(host="127.0.0.1", port=port, user="root", password=""),
            pymysql.err.OperationalError,
            proc,
            workdir / "mariadbd.log",
            "MariaDB",
        )
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE pinterest_data CHARACTER SET utf8mb4")
        conn.close()
        yield f"mysql+pymysql://root:@127.0.0.1:{port}/pinterest_data?charset=utf8mb4"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL on 127.0.0.1; yields the URL of database ``pinterest_data``.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user that
    Debian's package creates, in a directory of its own (pytest's are private to root).
    """
    with tempfile.TemporaryDirectory(prefix="pinpipe-pg-") as tmp:
        yield from _postgres_in(Path(tmp))


def _postgres_in(workdir: Path) -> Iterator[str]:
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = _find("initdb", *(str(d / "initdb") for d in bindirs))
    postgres = _find("postgres", *(str(d / "postgres") for d in bindirs))
    if not initdb or not postgres:
        _missing("postgresql")
    assert initdb and postgres
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        workdir.chmod(0o755)
        shutil.chown(workdir, "postgres", "postgres")
    datadir = workdir / "pgdata"
    subprocess.run(
        [*as_user, initdb, "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = (workdir / "postgres.log").open("wb")
    proc = subprocess.Popen(
        [
            *as_user,
            postgres,
            "-D",
            str(datadir),
            "-p",
            str(port),
            "-k",
            str(workdir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import psycopg

        conn = _connect_when_up(
            lambda: psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
            ),
            psycopg.OperationalError,
            proc,
            workdir / "postgres.log",
            "PostgreSQL",
        )
        conn.execute("CREATE DATABASE pinterest_data")
        conn.close()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/pinterest_data"
    finally:
        proc.terminate()  # runuser passes SIGTERM on to the server: a smart shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
