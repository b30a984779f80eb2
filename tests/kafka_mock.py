"""librdkafka's mock Kafka cluster in a process of its own, for the integration tests.

No Kafka broker can be installed on these machines, but confluent-kafka ships librdkafka, and
librdkafka has a mock cluster that speaks the real Kafka protocol over TCP on 127.0.0.1:
produce, fetch, list offsets, consumer groups, offset commit/fetch, idempotent and transactional
producers. What it lacks are the admin requests **CreateTopics** and **DeleteTopics** (its only
topic management is the C API ``rd_kafka_mock_topic_create``/``_delete``), so a plain
``AdminClient.create_topics`` against it waits for a controller and times out.

So the child process started here (this file run as a script) does three things:

1. creates the mock cluster through ctypes on the very librdkafka that confluent-kafka loaded
   (``rd_kafka_new`` + ``rd_kafka_mock_cluster_new``), with a controller id set;
2. puts a small Kafka-protocol front in front of each mock broker on 127.0.0.1: it forwards
   every request byte for byte, answers CreateTopics (v0-v4) and DeleteTopics (v0-v1) itself by
   calling the mock's C API, and adds those two APIs to the ApiVersions answer; the brokers
   advertise the front's ports (``rd_kafka_mock_broker_set_host_port``), so every connection a
   client makes goes through it;
3. writes the bootstrap servers (the fronts) to a file and lives until its stdin closes or it is
   terminated.

Clients therefore use the unmodified Kafka protocol end to end, including the admin API, which
is what pinpipe's ``KafkaBroker`` does against a real cluster. Limits of the mock worth knowing:
logs live in memory, and each partition keeps only its last ~5 MiB / 100,000 batches (older
batches are dropped and the start offset moves, like retention); SSL and SASL are not supported.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_TIMEOUT_S = 20.0

# Kafka API keys and error codes used by the front.
_PRODUCE, _API_VERSIONS, _CREATE_TOPICS, _DELETE_TOPICS = 0, 18, 19, 20
_CREATE_TOPICS_MAX, _DELETE_TOPICS_MAX = 4, 1  # the newest non-flexible versions
_INVALID_TOPIC, _INVALID_PARTITIONS, _INVALID_REPLICATION, _UNSUPPORTED_VERSION = 17, 37, 38, 35
_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


@contextmanager
def kafka_mock_cluster(brokers: int = 1, *, workdir: Path | None = None) -> Iterator[str]:
    """Start the mock cluster in a child process; yield its bootstrap servers (``host:port,…``).

    The child is ended by its PID when the block exits (stdin closed and SIGTERM, then SIGKILL
    after 10 s). Raises RuntimeError with the child's output if it is not up in 20 s.
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kafka-mock-")))
        ready = workdir / "bootstrap.txt"
        ready.unlink(missing_ok=True)
        log_path = workdir / "kafka-mock.log"
        log = stack.enter_context(log_path.open("wb"))
        proc = subprocess.Popen(
            [sys.executable, __file__, "--brokers", str(brokers), "--ready-file", str(ready)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not ready.exists():
                exited = proc.poll() is not None
                if exited or time.monotonic() > deadline:
                    log.flush()
                    output = log_path.read_text(errors="replace")[-3000:]
                    state = (
                        f"exited with code {proc.returncode} while starting"
                        if exited
                        else f"did not come up within {STARTUP_TIMEOUT_S:g} s"
                    )
                    msg = f"the librdkafka mock Kafka cluster {state}"
                    raise RuntimeError(f"{msg}; its output:\n{output}")
                time.sleep(0.05)
            yield ready.read_text().strip()
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------
# The child process: the mock cluster through ctypes
# ---------------------------------------------------------------------------------------------


def _load_librdkafka() -> ctypes.CDLL:
    """The librdkafka that confluent-kafka's extension module is linked against."""
    import confluent_kafka

    candidates: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.exists():  # Linux: the copy already mapped into this process
        for line in maps.read_text().splitlines():
            path = line.split()[-1]
            if "librdkafka" in Path(path).name and path not in candidates:
                candidates.append(path)
    package = Path(confluent_kafka.__file__).parent
    for folder in (package.parent / "confluent_kafka.libs", package / ".dylibs", package):
        candidates += sorted(str(p) for p in folder.glob("librdkafka*"))
    for path in candidates:
        with contextlib.suppress(OSError):
            return ctypes.CDLL(path)
    msg = f"librdkafka not found next to confluent_kafka ({package})"
    raise RuntimeError(msg)


class _MockCluster:
    def __init__(self, brokers: int) -> None:
        lib = self.lib = _load_librdkafka()
        lib.rd_kafka_conf_new.restype = ctypes.c_void_p
        lib.rd_kafka_conf_set.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.rd_kafka_new.restype = ctypes.c_void_p
        lib.rd_kafka_new.argtypes = [
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
        lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
        lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
        lib.rd_kafka_mock_set_controller_id.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        lib.rd_kafka_mock_broker_set_host_port.restype = None
        lib.rd_kafka_mock_broker_set_host_port.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int32,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.rd_kafka_mock_topic_create.restype = ctypes.c_int
        lib.rd_kafka_mock_topic_create.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.rd_kafka_mock_topic_delete.restype = ctypes.c_int
        lib.rd_kafka_mock_topic_delete.argtypes = [ctypes.c_void_p, ctypes.c_char_p]

        conf = lib.rd_kafka_conf_new()
        errstr = ctypes.create_string_buffer(512)
        for key, value in (("log_level", "4"), ("client.id", "kafka-mock")):
            lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), errstr, len(errstr))
        self.rk = lib.rd_kafka_new(0, conf, errstr, len(errstr))  # 0: RD_KAFKA_PRODUCER
        if not self.rk:
            msg = f"rd_kafka_new failed: {errstr.value.decode()}"
            raise RuntimeError(msg)
        self.mcluster = lib.rd_kafka_mock_cluster_new(self.rk, brokers)
        if not self.mcluster:
            msg = "rd_kafka_mock_cluster_new failed"
            raise RuntimeError(msg)
        self.brokers = brokers
        self.bootstraps = lib.rd_kafka_mock_cluster_bootstraps(self.mcluster).decode()
        lib.rd_kafka_mock_set_controller_id(self.mcluster, 1)
        self.lock = threading.Lock()

    def broker_addresses(self) -> dict[int, tuple[str, int]]:
        """Broker id -> listening address, read from the cluster's own metadata."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstraps, "log_level": 4})
        brokers = admin.list_topics(timeout=10).brokers
        return {b.id: (str(b.host), int(b.port)) for b in brokers.values()}

    def advertise(self, broker_id: int, host: str, port: int) -> None:
        self.lib.rd_kafka_mock_broker_set_host_port(self.mcluster, broker_id, host.encode(), port)

    def create_topic(self, name: str, partitions: int, replication: int) -> int:
        with self.lock:
            return int(
                self.lib.rd_kafka_mock_topic_create(
                    self.mcluster, name.encode(), partitions, replication
                )
            )

    def delete_topic(self, name: str) -> int:
        with self.lock:
            return int(self.lib.rd_kafka_mock_topic_delete(self.mcluster, name.encode()))


# ---------------------------------------------------------------------------------------------
# The child process: the protocol front
# ---------------------------------------------------------------------------------------------


class _Reader:
    """Big-endian Kafka primitive types (non-flexible encodings) from a bytes buffer."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def _unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def i8(self) -> int:
        return self._unpack(">b")

    def i16(self) -> int:
        return self._unpack(">h")

    def i32(self) -> int:
        return self._unpack(">i")

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def string(self) -> str | None:
        length = self.i16()
        if length < 0:
            return None
        value = self.data[self.pos : self.pos + length].decode()
        self.pos += length
        return value

    def compact_string(self) -> str | None:
        length = self.uvarint() - 1
        if length < 0:
            return None
        value = self.data[self.pos : self.pos + length].decode()
        self.pos += length
        return value

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


def _string(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv_frame(sock: socket.socket) -> bytes | None:
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    return _recv_exact(sock, struct.unpack(">i", header)[0])


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


class _Front:
    """Forwards one listening port to one mock broker, answering the admin requests itself."""

    def __init__(self, cluster: _MockCluster, upstream: tuple[str, int]) -> None:
        self.cluster = cluster
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Responses must go back in request order: the reader queues, per request, either
            # "read one response from upstream" or a ready local answer; the writer follows it.
            pending: queue.Queue[Callable[[], bytes | None] | None] = queue.Queue()
            threading.Thread(
                target=self._requests, args=(client, upstream, pending), daemon=True
            ).start()
            threading.Thread(target=self._responses, args=(client, pending), daemon=True).start()

    def _requests(
        self,
        client: socket.socket,
        upstream: socket.socket,
        pending: queue.Queue[Callable[[], bytes | None] | None],
    ) -> None:
        try:
            while (request := _recv_frame(client)) is not None:
                api_key, version, correlation = struct.unpack_from(">hhi", request)
                if api_key in (_CREATE_TOPICS, _DELETE_TOPICS):
                    answer = self._admin(api_key, version, correlation, request)
                    pending.put(functools.partial(bytes, answer))
                    continue
                if api_key == _API_VERSIONS:
                    pending.put(functools.partial(_patched_api_versions, upstream, version))
                elif not (api_key == _PRODUCE and _acks(request, version) == 0):
                    pending.put(functools.partial(_recv_frame, upstream))
                upstream.sendall(_frame(request))
        except OSError:
            pass
        finally:
            pending.put(None)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_RDWR)

    def _responses(
        self, client: socket.socket, pending: queue.Queue[Callable[[], bytes | None] | None]
    ) -> None:
        try:
            while (next_response := pending.get()) is not None:
                response = next_response()
                if response is None:
                    break
                client.sendall(_frame(response))
        except OSError:
            pass
        finally:
            client.close()

    def _admin(self, api_key: int, version: int, correlation: int, request: bytes) -> bytes:
        body = _Reader(request, 8)
        body.string()  # client id
        header = struct.pack(">i", correlation)
        if api_key == _CREATE_TOPICS:
            if version > _CREATE_TOPICS_MAX:
                return header + struct.pack(">h", _UNSUPPORTED_VERSION)
            return header + self._create_topics(body, version)
        if version > _DELETE_TOPICS_MAX:
            return header + struct.pack(">h", _UNSUPPORTED_VERSION)
        return header + self._delete_topics(body, version)

    def _create_topics(self, body: _Reader, version: int) -> bytes:
        topics = []
        for _ in range(body.i32()):
            name = body.string() or ""
            partitions, replication = body.i32(), body.i16()
            for _ in range(body.i32()):  # manual assignments: accepted, not honoured
                body.i32()
                for _ in range(body.i32()):
                    body.i32()
            for _ in range(body.i32()):  # configs: accepted, not honoured
                body.string()
                body.string()
            topics.append((name, partitions, replication))
        body.i32()  # timeout
        validate_only = version >= 1 and body.i8() != 0
        out = [struct.pack(">i", 0)] if version >= 2 else []  # throttle time
        out.append(struct.pack(">i", len(topics)))
        for name, partitions, replication in topics:
            partitions = 1 if partitions == -1 else partitions
            replication = min(self.cluster.brokers, 3) if replication == -1 else replication
            error, message = 0, None
            if not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
                error, message = _INVALID_TOPIC, f"invalid topic name {name!r}"
            elif partitions < 1:
                error, message = _INVALID_PARTITIONS, "number of partitions must be at least 1"
            elif not 1 <= replication <= self.cluster.brokers:
                error = _INVALID_REPLICATION
                message = f"replication factor {replication} > {self.cluster.brokers} brokers"
            elif not validate_only:
                error = self.cluster.create_topic(name, partitions, replication)
            out.append(_string(name) + struct.pack(">h", error))
            if version >= 1:
                out.append(_string(message))
        return b"".join(out)

    def _delete_topics(self, body: _Reader, version: int) -> bytes:
        names = [body.string() or "" for _ in range(body.i32())]
        out = [struct.pack(">i", 0)] if version >= 1 else []
        out.append(struct.pack(">i", len(names)))
        for name in names:
            out.append(_string(name) + struct.pack(">h", self.cluster.delete_topic(name)))
        return b"".join(out)


def _acks(request: bytes, version: int) -> int:
    """The acks of a Produce request (0 means the broker sends no response)."""
    body = _Reader(request, 8)
    body.string()  # client id (request header v1; flexible v2 adds tags)
    if version >= 9:
        body.skip_tags()
        if version >= 3:
            body.compact_string()
    elif version >= 3:
        body.string()  # transactional id
    return body.i16()


def _patched_api_versions(upstream: socket.socket, version: int) -> bytes | None:
    """The broker's ApiVersions response with CreateTopics and DeleteTopics added."""
    response = _recv_frame(upstream)
    if response is None:
        return None
    body = _Reader(response, 4)  # the response header is only the correlation id
    if body.i16() != 0:
        return response
    extra = {_CREATE_TOPICS: _CREATE_TOPICS_MAX, _DELETE_TOPICS: _DELETE_TOPICS_MAX}
    flexible = version >= 3
    count = body.uvarint() - 1 if flexible else body.i32()
    entries = []
    for _ in range(count):
        key, low, high = body.i16(), body.i16(), body.i16()
        if flexible:
            body.skip_tags()
        extra.pop(key, None)
        entries.append((key, low, high))
    entries += [(key, 0, high) for key, high in extra.items()]
    tag = b"\x00" if flexible else b""
    packed = b"".join(struct.pack(">hhh", *entry) + tag for entry in entries)
    count_bytes = _uvarint(len(entries) + 1) if flexible else struct.pack(">i", len(entries))
    return response[:6] + count_bytes + packed + response[body.pos :]


def _serve(brokers: int, ready_file: Path) -> None:
    cluster = _MockCluster(brokers)
    addresses = cluster.broker_addresses()
    fronts = []
    for broker_id, address in sorted(addresses.items()):
        front = _Front(cluster, address)
        cluster.advertise(broker_id, "127.0.0.1", front.port)
        fronts.append(front)
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(",".join(f"127.0.0.1:{front.port}" for front in fronts))
    tmp.replace(ready_file)
    print(f"mock Kafka cluster up: {ready_file.read_text()} (mock brokers {cluster.bootstraps})")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    os._exit(0)  # the mock cluster's threads need no orderly shutdown


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    _serve(args.brokers, args.ready_file)
