"""The supervisor with small ``python -c`` children: whole prefixed lines, start and stop order,
SIGKILL after the grace period, a service dying on its own, the ready probe."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pinpipe.orchestrate import (
    ServiceEvent,
    ServiceNotReadyError,
    ServiceSpec,
    SupervisorError,
    SupervisorReport,
    run_services,
)

pytestmark = pytest.mark.integration

#: A child: records each SIGTERM (name + time) in a file, then exits 0 - or ignores it, or dies
#: of it (no handler).
CHILD = r"""
import os, signal, sys, time
name, record, mode, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def on_term(signum, frame):
    with open(record, "a") as f:
        f.write(f"{name} {time.monotonic()}\n")
    if mode != "ignore":
        print(f"{name} got SIGTERM", flush=True)
        sys.exit(0)

if mode != "no-handler":
    signal.signal(signal.SIGTERM, on_term)
with open(record, "a") as f:
    f.write(f"{name} start {time.monotonic()}\n")
if mode == "chatty":  # a line in pieces, on both pipes, and a progress line
    sys.stdout.write("hel"); sys.stdout.flush(); time.sleep(0.1); sys.stdout.write("lo\n")
    sys.stdout.flush()
    os.write(2, "warn: ünïcode ".encode() + b"\xff\n")
    os.write(1, b"bad byte \xff\n")
    os.write(1, b"10%\r50%\r100%\n")
if mode.startswith("exit"):
    time.sleep(float(extra[0]))
    print(f"{name} leaving", flush=True)
    sys.exit(int(mode[4:]))
if mode == "slow-ready":
    time.sleep(0.5)
    open(extra[0], "w").close()
print(f"{name} up", flush=True)
while True:
    time.sleep(0.05)
"""


def child(name: str, record: Path, mode: str = "term", *extra: str) -> ServiceSpec:
    return ServiceSpec(name, (sys.executable, "-c", CHILD, name, str(record), mode, *extra))


class Output:
    """Collects lines and events; ``wait_for`` blocks until a predicate holds."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.events: list[ServiceEvent] = []
        self.changed = threading.Condition()

    def on_line(self, service: str, line: str) -> None:
        with self.changed:
            self.lines.append((service, line))
            self.changed.notify_all()

    def on_event(self, event: ServiceEvent) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def has(self, service: str, line: str) -> bool:
        return (service, line) in self.lines

    def wait_for(self, check: Callable[[], bool], timeout: float = 20) -> bool:
        with self.changed:
            return self.changed.wait_for(check, timeout)


def run(
    specs: list[ServiceSpec],
    out: Output,
    *,
    stop_when: Callable[[], bool] | None = None,
    grace_seconds: float = 30.0,
    ready_timeout: float = 60.0,
) -> SupervisorReport:
    """run_services in this thread; another sets ``stop`` once ``stop_when`` holds."""
    stop = threading.Event()

    def stopper() -> None:
        if out.wait_for(stop_when or (lambda: False)):
            stop.set()

    thread = threading.Thread(target=stopper, daemon=True)
    if stop_when is not None:
        thread.start()
    try:
        return run_services(
            specs,
            on_line=out.on_line,
            on_event=out.on_event,
            stop=stop,
            grace_seconds=grace_seconds,
            ready_timeout=ready_timeout,
        )
    finally:
        stop.set()  # let the stopper go if it is still waiting
        with out.changed:
            out.changed.notify_all()
        if stop_when is not None:
            thread.join(30)


def terms(record: Path) -> list[str]:
    """The names in the order their SIGTERM arrived."""
    lines = record.read_text().splitlines() if record.exists() else []
    return [line.split()[0] for line in lines if " start " not in line]


def test_whole_prefixed_lines_and_a_clean_stop(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    specs = [child("a", record, "chatty"), child("b", record)]
    report = run(specs, out, stop_when=lambda: out.has("a", "a up") and out.has("b", "b up"))
    assert report.exit_code == 0, report
    assert report.requested and report.reason == "stop requested"
    assert ("a", "hello") in out.lines  # written in two pieces, forwarded as one line
    assert ("a", "warn: ünïcode \ufffd") in out.lines  # stderr, with the same prefix
    assert ("a", "bad byte \ufffd") in out.lines  # bad UTF-8 replaced, not an error
    assert ("a", "100%") in out.lines  # the last state of a \r progress line
    assert ("a", "a got SIGTERM") in out.lines and ("b", "b got SIGTERM") in out.lines
    assert all(not line.endswith(("\n", "\r")) for _, line in out.lines)
    assert [r.ended for r in report.services] == ["stopped", "stopped"]
    assert [r.returncode for r in report.services] == [0, 0]
    assert all(r.pid for r in report.services)
    assert report.result("b").last_lines[-1] == "b got SIGTERM"
    started = [e.message for e in out.events if e.kind == "started"]
    assert started == [f"{r.name} started (pid {r.pid})" for r in report.services]


def test_stops_in_list_order_one_after_the_other(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    names = ["api", "sink", "stream"]
    specs = [child(name, record) for name in names]
    report = run(specs, out, stop_when=lambda: all(out.has(n, f"{n} up") for n in names))
    assert report.exit_code == 0
    assert terms(record) == names
    stopping = [e.service for e in out.events if e.kind == "stopping"]
    stopped = [e.service for e in out.events if e.kind == "exited"]
    assert stopping == stopped == names
    # each one is signalled only after the one before it has exited
    kinds = [(e.kind, e.service) for e in out.events if e.kind in ("stopping", "exited")]
    assert kinds == [(k, n) for n in names for k in ("stopping", "exited")]


def test_next_service_starts_once_the_previous_is_ready(tmp_path: Path) -> None:
    record, flag = tmp_path / "record", tmp_path / "ready"
    out = Output()
    first = child("first", record, "slow-ready", str(flag))
    first = ServiceSpec(
        first.name, first.argv, ready=flag.exists, ready_what=f"the file {flag.name}"
    )
    specs = [first, child("second", record)]
    report = run(specs, out, stop_when=lambda: out.has("second", "second up"))
    assert report.exit_code == 0
    kinds = [(e.kind, e.service) for e in out.events][:3]
    assert kinds == [("started", "first"), ("ready", "first"), ("started", "second")]
    ready = next(e for e in out.events if e.kind == "ready")
    assert "the file ready" in ready.message


def test_a_service_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    specs = [child("stubborn", record, "ignore"), child("polite", record)]
    started = time.monotonic()
    report = run(
        specs,
        out,
        stop_when=lambda: out.has("stubborn", "stubborn up") and out.has("polite", "polite up"),
        grace_seconds=1.0,
    )
    assert time.monotonic() - started < 15
    stubborn, polite = report.services
    assert (stubborn.ended, stubborn.returncode) == ("killed", -signal.SIGKILL)
    assert stubborn.status == "signal SIGKILL"
    assert (polite.ended, polite.returncode) == ("stopped", 0)
    assert report.exit_code == 1
    assert terms(record) == ["stubborn", "polite"]  # polite is stopped after the kill
    killed = [e for e in out.events if e.kind == "killed"]
    assert [e.service for e in killed] == ["stubborn"]
    assert "did not stop within 1 s" in killed[0].message


def test_a_service_dying_stops_the_others_and_fails(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    specs = [child("api", record), child("sink", record, "exit3", "1.5"), child("stream", record)]
    report = run(specs, out)  # nobody sets stop: the death does
    assert report.exit_code == 1 and not report.requested
    assert report.reason == "sink ended on its own (exit 3)"
    api, sink, stream = report.services
    assert (sink.ended, sink.returncode) == ("exited", 3)
    assert (api.ended, api.returncode) == ("stopped", 0)
    assert (stream.ended, stream.returncode) == ("stopped", 0)
    assert terms(record) == ["api", "stream"]
    assert ("sink", "sink leaving") in out.lines
    failed = [e for e in out.events if e.kind == "failed"]
    assert [(e.service, e.returncode) for e in failed] == [("sink", 3)]


def test_a_service_ending_with_0_on_its_own_is_a_failure_too(tmp_path: Path) -> None:
    record = tmp_path / "record"
    specs = [child("a", record), child("b", record, "exit0", "1")]
    report = run(specs, Output())
    assert report.exit_code == 1
    assert report.reason == "b ended on its own (exit 0)"
    assert report.result("a").ended == "stopped"


def test_not_ready_in_time_stops_what_started(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    never = ServiceSpec(
        "api",
        child("api", record).argv,
        ready=lambda: False,
        ready_what="http://127.0.0.1:1/healthz",
        display="pinpipe api --port 1",
    )
    with pytest.raises(ServiceNotReadyError) as caught:
        run([never, child("sink", record)], out, ready_timeout=1.5)
    error = caught.value
    assert "api was not ready within 1.5 s (http://127.0.0.1:1/healthz)" in error.message
    assert "api | api up" in error.message  # its last lines
    assert error.hint == "run it alone to see more: pinpipe api --port 1"
    api, sink = error.report.services
    assert api.ended == "not ready" and api.returncode == 0  # stopped with SIGTERM
    assert (sink.ended, sink.pid) == ("not started", None)
    assert error.report.exit_code == 1
    assert terms(record) == ["api"]


def test_dying_before_ready_names_the_service_and_its_status(tmp_path: Path) -> None:
    record = tmp_path / "record"
    dies = child("api", record, "exit2", "0")
    dies = ServiceSpec(dies.name, dies.argv, ready=lambda: False)
    with pytest.raises(ServiceNotReadyError, match=r"api ended \(exit 2\) before it was ready"):
        run([dies, child("sink", record)], Output())


def test_force_kills_at_once(tmp_path: Path) -> None:
    record = tmp_path / "record"
    out = Output()
    stop, force = threading.Event(), threading.Event()

    def stopper() -> None:
        if out.wait_for(lambda: out.has("a", "a up")):
            stop.set()
            force.set()

    threading.Thread(target=stopper, daemon=True).start()
    started = time.monotonic()
    report = run_services(
        [child("a", record, "ignore")],
        on_line=out.on_line,
        on_event=out.on_event,
        stop=stop,
        force=force,
        grace_seconds=60,
    )
    assert time.monotonic() - started < 20
    assert report.services[0].ended == "killed"
    assert "forced" in next(e.message for e in out.events if e.kind == "killed")


def test_stop_before_start_starts_nothing() -> None:
    stop = threading.Event()
    stop.set()
    report = run_services([ServiceSpec("x", ("/nonexistent/program",))], stop=stop)
    assert report.exit_code == 0
    assert report.services[0].ended == "not started"


def test_a_missing_program_is_one_error(tmp_path: Path) -> None:
    record = tmp_path / "record"
    specs = [child("a", record), ServiceSpec("b", (str(tmp_path / "no-such-program"),))]
    with pytest.raises(SupervisorError, match="b could not be started") as caught:
        run_services(specs)
    assert "no-such-program" in str(caught.value.hint)


def test_names_must_be_unique() -> None:
    with pytest.raises(SupervisorError, match="unique"):
        run_services([ServiceSpec("a", ("true",)), ServiceSpec("a", ("true",))])


def test_dying_of_our_sigterm_is_a_clean_stop(tmp_path: Path) -> None:
    """systemd's rule: a program without a SIGTERM handler (or still starting, before it has
    installed one) has nothing to flush; ending by the signal we sent is a stop, not a crash."""
    record = tmp_path / "record"
    out = Output()
    report = run(
        [child("plain", record, "no-handler")], out, stop_when=lambda: out.has("plain", "plain up")
    )
    [plain] = report.services
    assert (plain.ended, plain.returncode, plain.ok) == ("stopped", -signal.SIGTERM, True)
    assert report.exit_code == 0
    assert "plain stopped (signal SIGTERM)" in [e.message for e in out.events]
