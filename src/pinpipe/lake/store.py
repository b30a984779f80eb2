"""Object storage by URL: a local directory, ``memory://`` or ``s3://bucket/prefix``.

A :class:`Lake` stores objects under string keys (``topics/t/partition=0/t+0+0000000000.json``,
always ``/``-separated) below its root. Writes are atomic: a reader sees the whole object or
none of it, and a crash never leaves half an object under its key.

* **local** (a path or ``file://``): each object is written to a temporary name in its own
  directory (``.pinpipe-<pid>-<thread>.tmp``, ignored by :meth:`Lake.list`) and renamed over the
  key, which POSIX makes atomic. :meth:`Lake.put_atomic` fsyncs the file and the directory
  before it returns. :meth:`Lake.put_many` of many objects renames them all first and then
  makes them durable with one barrier (Linux ``syncfs``): one flush of the file system instead
  of two per object (~0.7 ms each here). Before that barrier an object may be lost or empty
  after a *power* failure (never after a process crash) - which is why the sink commits offsets
  only after ``put_many`` returns. Elsewhere, or for a few objects, each is fsynced.
* **s3**: one PUT per object (s3fs; a multipart upload above 50 MiB, still all-or-nothing);
  S3 makes an object durable before it acknowledges the PUT. ``put_many`` sends them
  concurrently. ``s3_endpoint_url`` points at another S3 (moto, a VPC endpoint); credentials
  come from boto's usual chain.
* **memory** (fsspec's ``MemoryFileSystem``, one store per process): for tests and demos.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pinpipe.closing import Closing
from pinpipe.errors import MissingExtraError, PinpipeError

LakeScheme = Literal["file", "memory", "s3"]
_TEMP_PREFIX = ".pinpipe-"
_TEMP_SUFFIX = ".tmp"
#: From this many objects on, ``put_many`` makes them durable with one syncfs (Linux).
SYNCFS_MIN_OBJECTS = 8


class LakeError(PinpipeError):
    """An object cannot be written, read, listed or deleted."""


class ObjectNotFoundError(LakeError):
    """No object under that key."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(f"no object {key!r} in the lake {url!r}", hint="list the keys that exist")
        self.key = key


def _syncfs() -> Any:
    """libc's ``syncfs(fd)`` on Linux (flushes one file system), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _syncfs()


class Lake(Closing):
    """Objects under string keys below the root of ``url``; see the module docstring."""

    def __init__(
        self,
        url: str,
        scheme: LakeScheme,
        root: str,
        fs: Any = None,
        *,
        s3_endpoint_url: str | None = None,
    ) -> None:
        self.url = url
        self.scheme: LakeScheme = scheme
        self._root = root.rstrip("/")
        self._fs = fs
        self.s3_endpoint_url = s3_endpoint_url

    # -- paths -----------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            msg = f"invalid object key {key!r}"
            raise LakeError(msg, hint="keys are relative, '/'-separated, without '.' or '..'")
        return f"{self._root}/{key}"

    def table_uri(self, key: str) -> str:
        """Where a table (a Delta table's folder) under ``key`` lives, as delta-rs and Spark
        name it: an absolute local path or ``s3://bucket/prefix/key``."""
        path = self._path(key)
        if self.scheme == "s3":
            return f"s3://{path}"
        if self.scheme == "memory":
            msg = f"a memory:// lake cannot hold tables such as {key!r}"
            raise LakeError(msg, hint="use a local path or an s3:// lake for Delta tables")
        return path

    def storage_options(self) -> dict[str, str]:
        """Options for delta-rs (object_store) to reach this lake: the S3 endpoint. Credentials
        and region come from the environment's usual AWS chain, as for s3fs."""
        if self.scheme != "s3":
            return {}
        options: dict[str, str] = {}
        if self.s3_endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.s3_endpoint_url
            if self.s3_endpoint_url.startswith("http://"):
                options["AWS_ALLOW_HTTP"] = "true"
        return options

    def _error(self, action: str, key: str, exc: Exception) -> LakeError:
        if isinstance(exc, LakeError):
            return exc
        where = f"{action} {key!r} in the lake {self.url!r}"
        if isinstance(exc, FileNotFoundError) and self.scheme == "s3":
            bucket = self._root.split("/", 1)[0]
            return LakeError(f"cannot {where}: {exc}", hint=f"create the bucket {bucket!r} first")
        if isinstance(exc, PermissionError):
            hint = (
                "check the AWS credentials and the bucket policy"
                if self.scheme == "s3"
                else "check the directory's permissions, or change lake_url"
            )
            return LakeError(f"cannot {where}: permission denied ({exc})", hint=hint)
        hint = "check lake_url, the disk (space) or the endpoint, then retry"
        return LakeError(f"cannot {where}: {exc}", hint=hint)

    # -- writes ----------------------------------------------------------------------------

    def put_atomic(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically; durable when this returns."""
        path = self._path(key)
        try:
            if self._fs is None:
                directory = self._write_local(path, data, fsync=True)
                _fsync_dir(directory)
            else:
                self._fs.pipe_file(path, data)
        except Exception as exc:
            error = self._error("write", key, exc)
            raise error from exc

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store every ``(key, data)``, each atomically; all durable when this returns."""
        if not items:
            return
        paths = [(self._path(key), data) for key, data in items]
        try:
            if self._fs is None:
                self._put_many_local(paths)
            else:
                self._fs.pipe(dict(paths))
        except Exception as exc:
            keys = items[0][0] if len(items) == 1 else f"{len(items)} objects, {items[0][0]}…"
            error = self._error("write", keys, exc)
            raise error from exc

    def _put_many_local(self, paths: list[tuple[str, bytes]]) -> None:
        # A few objects: fsync each before its rename. Many: rename them all, then one syncfs
        # (a flush of the whole file system costs about as much as a handful of fsyncs).
        barrier = _SYNCFS is not None and len(paths) >= SYNCFS_MIN_OBJECTS
        directories: dict[str, None] = {}
        for path, data in paths:
            directories[self._write_local(path, data, fsync=not barrier)] = None
        if barrier:
            fd = os.open(self._root, os.O_RDONLY)
            try:
                if _SYNCFS(fd) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"syncfs: {os.strerror(error)}")
            finally:
                os.close(fd)
        else:
            for directory in directories:
                _fsync_dir(directory)

    @staticmethod
    def _write_local(path: str, data: bytes, *, fsync: bool) -> str:
        """Write ``data`` to a temporary file next to ``path`` and rename it; the directory."""
        directory = os.path.dirname(path)
        temp = f"{directory}/{_TEMP_PREFIX}{os.getpid()}-{threading.get_ident()}{_TEMP_SUFFIX}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        return directory

    # -- reads -----------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        """The object under ``key``; ObjectNotFoundError when there is none."""
        path = self._path(key)
        try:
            if self._fs is None:
                with open(path, "rb") as fh:
                    return fh.read()
            data: bytes = self._fs.cat_file(path)
            return data
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(self.url, key) from None
        except Exception as exc:
            error = self._error("read", key, exc)
            raise error from exc

    def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            if self._fs is None:
                return os.path.isfile(path)
            return bool(self._fs.isfile(path))
        except Exception as exc:
            error = self._error("look up", key, exc)
            raise error from exc

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; ObjectNotFoundError when there is none."""
        path = self._path(key)
        try:
            if self._fs is None:
                os.unlink(path)
            else:
                if not self._fs.isfile(path):
                    raise FileNotFoundError(path)
                self._fs.rm_file(path)
        except FileNotFoundError:
            raise ObjectNotFoundError(self.url, key) from None
        except Exception as exc:
            error = self._error("delete", key, exc)
            raise error from exc

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted (temporary files of writers are left out)."""
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = f"{self._root}/{base}".rstrip("/")
        try:
            found = self._walk_local(start) if self._fs is None else self._fs.find(start)
        except FileNotFoundError:
            return []
        except Exception as exc:
            error = self._error("list", prefix or "/", exc)
            raise error from exc
        cut = len(self._root) + 1
        keys = (str(path)[cut:] for path in found)
        return sorted(
            k
            for k in keys
            if k.startswith(prefix) and not k.rsplit("/", 1)[-1].startswith(_TEMP_PREFIX)
        )

    @staticmethod
    def _walk_local(start: str) -> Iterator[str]:
        if not os.path.isdir(start):
            return
        for directory, _, files in os.walk(start):
            for name in files:
                yield f"{directory}/{name}"

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (where directories can be opened and synced)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its renames are journaled
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)


def open_lake(url: str, *, s3_endpoint_url: str | None = None) -> Lake:
    """The lake behind ``url``: a path or ``file://PATH``, ``memory://NAME``, ``s3://BUCKET[/P]``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or len(scheme) == 1:  # a plain path (one letter: a Windows drive)
        return _local(url, Path(url))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            msg = f"lake URL {url!r} names a remote host"
            raise LakeError(msg, hint="use file:///absolute/path (three slashes)")
        return _local(url, Path(parts.path))
    if scheme == "memory":
        fsspec = _import_fsspec("a memory:// lake")
        fs = fsspec.filesystem("memory")
        root = "/" + f"{parts.netloc}{parts.path}".strip("/")
        return Lake(url, "memory", root, fs)
    if scheme == "s3":
        if not parts.netloc:
            msg = f"lake URL {url!r} has no bucket"
            raise LakeError(msg, hint="use s3://BUCKET[/PREFIX]")
        _import_fsspec("an s3:// lake")
        if importlib.util.find_spec("s3fs") is None:
            missing = MissingExtraError("an s3:// lake", "aws", "s3fs")
            raise missing
        import s3fs  # type: ignore[import-untyped, unused-ignore]

        options: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
        if s3_endpoint_url:
            options["endpoint_url"] = s3_endpoint_url
        fs = s3fs.S3FileSystem(**options)
        root = f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
        return Lake(url, "s3", root, fs, s3_endpoint_url=s3_endpoint_url)
    msg = f"lake URL {url!r} has an unknown scheme {parts.scheme!r}"
    raise LakeError(msg, hint="use a path, file:///PATH, memory://NAME or s3://BUCKET[/PREFIX]")


def _local(url: str, path: Path) -> Lake:
    root = path.expanduser().absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the lake directory {str(root)!r}: {exc}"
        raise LakeError(msg, hint="point lake_url at a writable place") from exc
    return Lake(url, "file", str(root))


def _import_fsspec(feature: str) -> Any:
    if importlib.util.find_spec("fsspec") is None:
        raise MissingExtraError(feature, "aws", "fsspec")
    import fsspec  # type: ignore[import-untyped, unused-ignore]

    return fsspec
