"""The streaming job (SPEC §7.2): the three streams, cleaned by the batch job's models, into
three Delta tables, exactly once, with the positions kept in the tables' own commits."""

from __future__ import annotations

from pinpipe.stream.job import StreamInfo, StreamSummary, run_stream
from pinpipe.stream.tables import StreamTableError

__all__ = ["StreamInfo", "StreamSummary", "StreamTableError", "run_stream"]
