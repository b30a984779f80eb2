"""A base for objects that hold resources: ``with X(...) as x:`` calls ``x.close()`` on exit."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """Context-manager protocol on top of ``close()``; subclasses release their resources there."""

    def close(self) -> None:
        """Release connections and files (nothing by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
