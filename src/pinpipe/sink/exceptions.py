"""The sink's errors.

Hierarchy (under :class:`pinpipe.errors.PinpipeError`)::

    SinkError               the sink cannot run (bad option, unsupported broker)
    └── SinkConfigError     an option has a value the sink does not accept
    EncodeError             one record cannot be encoded; it goes to the dead-letter topic

``EncodeError`` never reaches the user: the sink catches it and dead-letters the record with
``reason`` as the explanation.
"""

from __future__ import annotations

from pinpipe.errors import PinpipeError


class SinkError(PinpipeError):
    """The sink cannot run."""


class SinkConfigError(SinkError):
    """A sink option has a value the sink does not accept; names the option and valid values."""


class EncodeError(PinpipeError):
    """A record value cannot be encoded in the object format; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, hint="the record goes to the dead-letter topic")
        self.reason = reason
