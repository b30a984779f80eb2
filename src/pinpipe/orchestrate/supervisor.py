"""Run several long-lived programs as one, like docker compose or honcho.

:func:`run_services` starts the services of a list in order (a service with a ``ready`` probe
is waited for before the next one starts), forwards every line each one writes to stdout or
stderr, and, when ``stop`` is set or a service ends on its own, stops the ones still running
**in the list's order** — upstream first: a producer stops before the consumers that drain
what it produced — each with SIGTERM, then SIGKILL after ``grace_seconds``. It returns a
:class:`SupervisorReport`; exit code 0 means the stop was asked for and every service then
exited 0 (or died of that SIGTERM, see :attr:`ServiceResult.ok`).

Signals. Each child runs in a process group of its own (``process_group=0``). A Ctrl-C in a
terminal sends SIGINT to the whole *foreground* group; were the children in it, each would get
SIGINT from the terminal at the same moment as the supervisor, and then SIGTERM from the
supervisor's ordered stop: a second signal, which pinpipe's services (like most) treat as
"stop *now*" (the sink and streamer restore the default handler after the first signal, so the
second kills them before they commit). In their own groups they get exactly one signal, from
us, in dependency order. The cost: if the supervisor itself is SIGKILLed, the children keep
running; their pids are reported at start (``<name> started (pid N)``) to end them by hand.
This module installs no signal handler: the caller sets ``stop`` (the CLI does it from its
SIGINT/SIGTERM handlers, tests from another thread), and ``force`` to SIGKILL what is left at
once (a second Ctrl-C). ``stop`` and ``force`` are only ever polled here (``is_set``), never
waited on, so a signal handler that sets them can never find their lock held by the thread it
interrupted.

Output. One reader thread per pipe turns the bytes into whole lines (UTF-8, bad bytes replaced,
the last ``\\r`` segment of a progress line kept, trailing blanks dropped); ``on_line(service,
line)`` and ``on_event(event)`` are called under one lock, so lines are never interleaved
mid-line. Children write to pipes, so Python children would buffer whole blocks:
``PYTHONUNBUFFERED=1`` is set for every child (a spec's ``env`` may override it).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from pinpipe.errors import PinpipeError

#: How a service ended: ``stopped`` (exited after our SIGTERM), ``killed`` (SIGKILL after the
#: grace period or on ``force``), ``exited`` (ended on its own), ``not ready`` (ended or timed
#: out before its ``ready`` probe passed), ``not started`` (an earlier one failed, or a stop came).
Ending = Literal["stopped", "killed", "exited", "not ready", "not started"]
EventKind = Literal["started", "ready", "stopping", "exited", "killed", "failed"]

#: Lines of each service's output kept for the report and error messages.
TAIL_LINES = 20
#: How long to wait for a reader thread after its process ended (a grandchild may hold the pipe).
READER_JOIN_S = 5.0


class SupervisorError(PinpipeError):
    """Services cannot be started or supervised."""


class ServiceNotReadyError(SupervisorError):
    """A service ended, or its ready probe failed, before it was ready; the others were stopped.

    ``report`` says how each service ended."""

    def __init__(self, message: str, *, hint: str | None, report: SupervisorReport) -> None:
        super().__init__(message, hint=hint)
        self.report = report


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service: the command, extra environment, and how to tell it is ready.

    ``env`` is added to the supervisor's own environment (the child inherits it). ``ready``, if
    given, is polled (it must return a bool, not raise) until it returns True; ``ready_what``
    says what it waits for, for messages (e.g. a URL). ``display`` is the command as a user
    would type it, for hints (default: the argv).
    """

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    ready: Callable[[], bool] | None = None
    ready_what: str = ""
    display: str = ""

    @property
    def command_line(self) -> str:
        return self.display or shlex.join(self.argv)


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """Something the supervisor did or saw; ``message`` is a sentence naming the service."""

    service: str
    kind: EventKind
    message: str
    pid: int | None = None
    returncode: int | None = None


@dataclass(frozen=True, slots=True)
class ServiceResult:
    """How one service ended: its pid, exit status (negative: the signal), seconds it ran."""

    name: str
    pid: int | None
    returncode: int | None
    ended: Ending
    seconds: float
    last_lines: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Stopped on request — exit status 0, or ended by the SIGTERM we sent (systemd's rule:
        a program with something to flush handles SIGTERM; one still starting up, before its
        handler is installed, has nothing to lose) — or never started because a stop came first.
        """
        if self.ended == "not started":
            return True
        return self.ended == "stopped" and self.returncode in (0, -signal.SIGTERM)

    @property
    def status(self) -> str:
        return describe_status(self.returncode)


@dataclass(frozen=True, slots=True)
class SupervisorReport:
    """Every service's result, in start order, and why the services were stopped."""

    services: tuple[ServiceResult, ...]
    reason: str
    requested: bool  # the stop was asked for (``stop`` set), not caused by a failing service

    @property
    def exit_code(self) -> int:
        return 0 if self.requested and all(s.ok for s in self.services) else 1

    def result(self, name: str) -> ServiceResult:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)


def describe_status(returncode: int | None) -> str:
    """``exit 0``, ``exit 1``, ``signal SIGKILL``; ``-`` when there is none."""
    if returncode is None:
        return "-"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit {returncode}"


@dataclass
class _Running:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    started: float
    readers: list[threading.Thread]
    tail: deque[str]
    ended: Ending | None = None
    seconds: float | None = None

    def result(self) -> ServiceResult:
        seconds = self.seconds if self.seconds is not None else time.monotonic() - self.started
        return ServiceResult(
            self.spec.name,
            self.process.pid,
            self.process.returncode,
            self.ended or "exited",
            round(seconds, 3),
            tuple(self.tail),
        )


class _Supervisor:
    def __init__(
        self,
        specs: Sequence[ServiceSpec],
        *,
        grace_seconds: float,
        ready_timeout: float,
        on_line: Callable[[str, str], None] | None,
        on_event: Callable[[ServiceEvent], None] | None,
        stop: threading.Event,
        force: threading.Event,
        poll_interval: float,
    ) -> None:
        self.specs = specs
        self.grace_seconds = grace_seconds
        self.ready_timeout = ready_timeout
        self.on_line = on_line
        self.on_event = on_event
        self.stop = stop
        self.force = force
        self.poll = poll_interval
        self.lock = threading.Lock()
        self.running: list[_Running] = []
        self.output_broken = False  # on_line raised OSError (e.g. our stdout closed)

    # -- output ---------------------------------------------------------------------------

    def emit_line(self, running: _Running, line: str) -> None:
        with self.lock:
            running.tail.append(line)
            if self.on_line is None or self.output_broken:
                return
            try:
                self.on_line(running.spec.name, line)
            except (OSError, ValueError):  # our stdout is gone: keep draining the pipes
                self.output_broken = True

    def event(
        self, running: _Running | str, kind: EventKind, message: str, *, code: int | None = None
    ) -> None:
        name = running if isinstance(running, str) else running.spec.name
        pid = None if isinstance(running, str) else running.process.pid
        if self.on_event is None or self.output_broken:
            return
        with self.lock:
            try:
                self.on_event(ServiceEvent(name, kind, message, pid, code))
            except (OSError, ValueError):
                self.output_broken = True

    def read_lines(self, running: _Running, pipe: IO[bytes]) -> None:
        with pipe:
            for raw in pipe:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.emit_line(running, text.rsplit("\r", 1)[-1].rstrip())

    # -- start ----------------------------------------------------------------------------

    def start(self, spec: ServiceSpec) -> _Running:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        try:
            process = subprocess.Popen(  # noqa: S603 - argv built by the caller, no shell
                list(spec.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=spec.cwd,
                process_group=0,  # one signal each, from us, in order (see the module doc)
            )
        except OSError as exc:
            msg = f"{spec.name} could not be started: {exc}"
            raise SupervisorError(msg, hint=f"check the command: {spec.command_line}") from exc
        running = _Running(spec, process, time.monotonic(), [], deque(maxlen=TAIL_LINES))
        for label, pipe in (("stdout", process.stdout), ("stderr", process.stderr)):
            if pipe is None:  # never: PIPE was asked for
                continue
            reader = threading.Thread(
                target=self.read_lines,
                args=(running, pipe),
                name=f"pinpipe-{spec.name}-{label}",
                daemon=True,
            )
            reader.start()
            running.readers.append(reader)
        self.running.append(running)
        self.event(running, "started", f"{spec.name} started (pid {process.pid})")
        return running

    def wait_ready(self, running: _Running, ready: Callable[[], bool]) -> str | None:
        """None when ready (or a stop was asked for meanwhile); otherwise why it is not."""
        spec = running.spec
        waiting = f" ({spec.ready_what})" if spec.ready_what else ""
        deadline = running.started + self.ready_timeout
        while not self.stop.is_set():
            if running.process.poll() is not None:
                status = describe_status(running.process.returncode)
                return f"{spec.name} ended ({status}) before it was ready{waiting}"
            if self.first_dead() is not None:
                return None  # another service died: watch() reports it
            if ready():
                seconds = time.monotonic() - running.started
                self.event(running, "ready", f"{spec.name} ready in {seconds:.1f} s{waiting}")
                return None
            if time.monotonic() > deadline:
                return f"{spec.name} was not ready within {self.ready_timeout:g} s{waiting}"
            time.sleep(self.poll)
        return None

    # -- watch and stop -------------------------------------------------------------------

    def first_dead(self) -> _Running | None:
        return next((r for r in self.running if r.process.poll() is not None), None)

    def watch(self) -> str | None:
        """Until a stop is asked for (None) or a service ends on its own (why)."""
        while not self.stop.is_set():
            dead = self.first_dead()
            if dead is not None:
                return self.ended_alone(dead, then="stopping the others")
            time.sleep(self.poll)
        return None

    def ended_alone(self, running: _Running, *, then: str) -> str:
        running.ended = "exited"
        running.seconds = time.monotonic() - running.started
        code = running.process.returncode
        reason = f"{running.spec.name} ended on its own ({describe_status(code)})"
        self.event(running, "failed", f"{reason}; {then}", code=code)
        return reason

    def stop_all(self) -> None:
        """SIGTERM each service still running, in start order, each waited for in turn."""
        for running in self.running:
            process, name = running.process, running.spec.name
            if process.poll() is None:
                self.event(running, "stopping", f"stopping {name} (SIGTERM to pid {process.pid})")
                process.send_signal(signal.SIGTERM)
                running.ended = running.ended or "stopped"
                deadline = time.monotonic() + self.grace_seconds
                while process.poll() is None:
                    if self.force.is_set() or time.monotonic() > deadline:
                        why = (
                            "forced"
                            if self.force.is_set()
                            else f"did not stop within {self.grace_seconds:g} s"
                        )
                        self.event(running, "killed", f"{name}: SIGKILL ({why})")
                        process.kill()
                        process.wait()
                        running.ended = "killed"
                        break
                    time.sleep(self.poll)
                code = process.returncode
                if running.ended != "killed":
                    self.event(running, "exited", f"{name} stopped ({describe_status(code)})")
            elif running.ended is None:  # ended before its turn to be stopped
                self.ended_alone(running, then="going on with the stop")
            if running.seconds is None:
                running.seconds = time.monotonic() - running.started
        for running in self.running:
            for reader in running.readers:
                reader.join(READER_JOIN_S)

    # -- the whole run --------------------------------------------------------------------

    def run(self) -> SupervisorReport:
        not_ready: _Running | None = None
        reason: str | None = None  # None: the stop was asked for
        try:
            for spec in self.specs:
                if self.stop.is_set() or self.first_dead() is not None:
                    break
                running = self.start(spec)
                if spec.ready is not None:
                    reason = self.wait_ready(running, spec.ready)
                    if reason is not None:
                        running.ended = "not ready"
                        self.event(running, "failed", f"{reason}; stopping")
                        not_ready = running
                        break
            if not_ready is None:
                reason = self.watch()
        finally:
            self.stop_all()
        started = {r.spec.name: r for r in self.running}
        results = tuple(
            started[s.name].result()
            if s.name in started
            else ServiceResult(s.name, None, None, "not started", 0.0)
            for s in self.specs
        )
        report = SupervisorReport(results, reason or "stop requested", reason is None)
        if not_ready is not None:
            name = not_ready.spec.name
            last = "".join(f"\n  {name} | {line}" for line in list(not_ready.tail)[-8:])
            message = report.reason + (f"; its last lines:{last}" if last else "")
            hint = f"run it alone to see more: {not_ready.spec.command_line}"
            raise ServiceNotReadyError(message, hint=hint, report=report)
        return report


def run_services(
    specs: Sequence[ServiceSpec],
    *,
    grace_seconds: float = 30.0,
    ready_timeout: float = 60.0,
    on_line: Callable[[str, str], None] | None = None,
    on_event: Callable[[ServiceEvent], None] | None = None,
    stop: threading.Event | None = None,
    force: threading.Event | None = None,
    poll_interval: float = 0.1,
) -> SupervisorReport:
    """Start ``specs`` in order, supervise them until ``stop`` is set or one ends on its own,
    then stop them in the same order (SIGTERM; SIGKILL after ``grace_seconds``, or at once when
    ``force`` is set). See the module doc for the signal and output rules.

    Returns the report (``exit_code`` 0 when the stop was asked for and every service stopped
    cleanly, :attr:`ServiceResult.ok`).
    Raises :class:`ServiceNotReadyError` (after stopping the others) when a service's ``ready``
    probe does not pass within ``ready_timeout`` seconds or it ends first, and
    :class:`SupervisorError` when a command cannot be run at all.
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or not names:
        msg = f"service names must be unique and there must be at least one: {names}"
        raise SupervisorError(msg, hint="give each ServiceSpec its own name")
    supervisor = _Supervisor(
        specs,
        grace_seconds=grace_seconds,
        ready_timeout=ready_timeout,
        on_line=on_line,
        on_event=on_event,
        stop=stop or threading.Event(),
        force=force or threading.Event(),
        poll_interval=poll_interval,
    )
    return supervisor.run()
