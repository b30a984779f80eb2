"""Reading requests: bounded bodies, JSON, media types, query numbers, idempotency keys.

Everything here raises :class:`ApiError` for bad input, so a handler validates a whole request
before it writes anything.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from pinpipe.api.errors import ApiError, Problem

IDEMPOTENCY_HEADER = b"idempotency-key"
MAX_IDEMPOTENCY_KEY = 255


def header(request: Request, name: bytes) -> str | None:
    """A request header by its lower-case name (a plain scan: no KeyError on the hot path)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = header(request, b"content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(Problem.MALFORMED_JSON, "the client disconnected mid-body") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        Problem.BODY_TOO_LARGE,
        f"request body is larger than {limit} bytes (api.max_body_bytes); send fewer records",
    )


# Digits to "0", the bytes that can come right before a JSON number to "1", the rest to " ":
# "1" then 19 zeros marks a number orjson may not keep exact. Digit runs inside strings (the hex
# names in image_src) follow a letter or "/" and do not count, so they cost no second parse.
_DIGITS = bytes(48 if 48 <= i <= 57 else 49 if i in b"[:,- \t\r\n" else 32 for i in range(256))
_LONG_NUMBER = b"1" + b"0" * 19


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; 400 (unparsable) in either family's format.

    orjson is strict (no NaN, no lone surrogates, depth <= 1024) and fast, but reads integers
    beyond 64 bits as floats; a body with a 19+ digit run is re-read with the standard library,
    which keeps them exact, so no digit of a record is lost.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = f"Unexpected character or malformed JSON: {exc}"
        raise ApiError(Problem.MALFORMED_JSON, msg) from None
    mapped = body.translate(_DIGITS)
    if _LONG_NUMBER in mapped or mapped.startswith(_LONG_NUMBER[1:]):
        try:
            value = json.loads(body.decode("utf-8"))
        except RecursionError:
            msg = "Malformed JSON: nested too deeply"
            raise ApiError(Problem.MALFORMED_JSON, msg) from None
    return value


def encode_json(value: Any) -> bytes:
    """Compact JSON (non-ASCII as UTF-8), as Jackson and API Gateway's ``$input.json`` write it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, or nesting deeper than orjson's 254 levels
        pass
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (RecursionError, ValueError):
        msg = "a value is nested too deeply to store (at most about 900 levels)"
        raise ApiError(Problem.INVALID_REQUEST, msg) from None
    return text.encode()


async def read_json(request: Request, limit: int, *, empty: Any = ...) -> Any:
    """Read and parse the body; an empty body gives ``empty`` when that is given."""
    body = await read_body(request, limit)
    if empty is not ... and not body.strip():
        return empty
    return parse_json(body)


def media_type(request: Request) -> str | None:
    """The request's Content-Type without parameters, lower-cased (None when absent)."""
    value = header(request, b"content-type")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def require_media_type(
    request: Request, allowed: Collection[str], *, missing_ok: bool = False
) -> None:
    """415 unless the Content-Type is one of ``allowed`` (or absent, when ``missing_ok``)."""
    found = media_type(request)
    if found is None and missing_ok:
        return
    if found not in allowed:
        msg = f"HTTP 415 Unsupported Media Type: {found or 'no Content-Type'}; use one of " + (
            ", ".join(sorted(allowed))
        )
        raise ApiError(Problem.UNSUPPORTED_MEDIA_TYPE, msg)


def accepted_types(request: Request) -> list[str]:
    """Media types of the Accept header, parameters dropped (empty when absent)."""
    value = header(request, b"accept") or ""
    return [part.split(";", 1)[0].strip().lower() for part in value.split(",") if part.strip()]


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header: 1-255 visible ASCII characters, or None."""
    key = header(request, IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not all(33 <= ord(c) <= 126 for c in key):
        msg = "Idempotency-Key must be 1-255 visible ASCII characters (no spaces)"
        raise ApiError(Problem.INVALID_REQUEST, msg)
    return key


def query_int(
    request: Request, name: str, default: int, *, low: int, high: int, problem: Problem
) -> int:
    """An integer query parameter within ``low..high``."""
    raw = request.query_params.get(name)
    if raw is None:  # ``?name=`` is present and empty: refused below, not read as absent
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(problem, f"query parameter {name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ApiError(problem, f"query parameter {name}={value} must be within {low}..{high}")
    return value


def json_response(
    content: Any, media_type: str, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status, headers=headers, media_type=media_type)


def is_int(value: Any) -> bool:
    """A JSON integer (``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)
