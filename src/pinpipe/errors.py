"""The one error root of pinpipe.

Every error a user can meet derives from :class:`PinpipeError` and carries a ``hint`` that says
what to do next. The CLI prints ``message`` and ``hint`` on one red line and exits 1; ``--debug``
shows the traceback instead.

Hierarchy::

    PinpipeError
    ├── ConfigError              a setting is missing or invalid (names the key and allowed values)
    ├── MissingExtraError        an optional dependency is not installed (names the extra)
    ├── SourceError              the source database
    │   ├── SourceConnectError   cannot reach or open the database URL
    │   ├── SourceNotReadyError  the tables are missing or empty
    │   └── LoadError            a dump file is malformed (names file, line and column)
    └── BrokerError              the log behind topics and streams
        ├── BrokerUnavailableError   cannot reach the broker (Transient)
        ├── UnknownTopicError        no such topic or stream
        ├── TopicExistsError         create of a name that exists
        ├── InvalidNameError         a name breaks Kafka's or Kinesis' rules
        ├── InvalidPartitionError    a partition/shard the topic does not have
        ├── OffsetOutOfRangeError    a read below the log start or past its end
        ├── RecordTooLargeError      one record over the size limit
        └── BackpressureError        the broker cannot keep up: retry after ``retry_after`` s

``Transient`` marks errors worth retrying (network, a busy server); everything else is terminal.
"""

from __future__ import annotations


class PinpipeError(Exception):
    """Root of every error pinpipe raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class Transient:
    """Mixin: the same call may succeed later (retry with backoff)."""


class ConfigError(PinpipeError):
    """A setting is missing or invalid."""


class MissingExtraError(PinpipeError, ImportError):
    """An optional dependency of a feature is not installed."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the Python package {module!r}, which is not installed",
            hint=f"install the extra: pip install 'pinpipe[{extra}]' (or uv sync --extra {extra})",
        )
        self.extra = extra


class SourceError(PinpipeError):
    """Something is wrong with the source database."""


class SourceConnectError(SourceError, Transient):
    """The source database cannot be reached or opened."""


class SourceNotReadyError(SourceError):
    """The source tables are missing or empty."""


class LoadError(SourceError):
    """A dump file cannot be loaded; names the file, the line and the column."""

    def __init__(
        self, reason: str, *, file: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = file if line is None else f"{file}:{line}"
        if column is not None:
            where += f" column {column!r}"
        super().__init__(f"{where}: {reason}", hint="fix or replace the file; nothing was loaded")
        self.file = file
        self.line = line
        self.column = column


class BrokerError(PinpipeError):
    """Something is wrong with the broker (embedded log, Kafka or Kinesis)."""


class BrokerUnavailableError(BrokerError, Transient):
    """The broker cannot be reached."""


class UnknownTopicError(BrokerError):
    """No topic or stream of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"topic or stream {name!r} does not exist",
            hint=f"create it: pinpipe topics create {name} (or pinpipe streams create)",
        )
        self.name = name


class TopicExistsError(BrokerError):
    """Create of a topic or stream that already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(f"topic or stream {name!r} already exists", hint="use another name")
        self.name = name


class InvalidNameError(BrokerError):
    """A topic or stream name breaks the naming rules."""


class InvalidPartitionError(BrokerError):
    """A partition (shard) the topic (stream) does not have."""


class OffsetOutOfRangeError(BrokerError):
    """A read from an offset the log does not hold."""


class RecordTooLargeError(BrokerError):
    """A record larger than the broker accepts."""


class BackpressureError(BrokerError, Transient):
    """The broker cannot keep up; the same call may succeed after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message, hint=f"retry after {retry_after:g} s")
        self.retry_after = retry_after
