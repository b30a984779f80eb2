"""Every response of the suite checked against /openapi.json (status, media type, body schema).

``serve()`` installs :func:`check` as an httpx response hook, so each test doubles as a
conformance test of the hand-written document. Needs ``jsonschema`` (skips the body check
when it is not installed).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
from typing import Any

import httpx
import orjson

from pinpipe.api.app import ROOTS
from pinpipe.api.openapi import document

HAS_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None


@functools.cache
def _doc() -> dict[str, Any]:
    return document()


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
        for path in _doc()["paths"]
    ]


def _inline(schema: Any) -> Any:
    """The schema with every ``$ref`` to components replaced by its target."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return _inline(_doc()["components"]["schemas"][name])
        return {k: _inline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v) for v in schema]
    return schema


def route_path(path: str) -> str:
    parts = path.split("/", 3)
    if len(parts) >= 3 and parts[1] not in ROOTS and parts[2] in ROOTS:
        return path[len(parts[1]) + 1 :]
    return path


def documented(method: str, path: str) -> dict[str, Any] | None:
    """The operation documented for ``method path`` (stage prefix allowed), if any."""
    bare = route_path(path)
    for pattern, template in _templates():
        if pattern.fullmatch(bare):
            operation: dict[str, Any] | None = _doc()["paths"][template].get(method.lower())
            return operation
    return None


async def check(response: httpx.Response) -> None:
    request = response.request
    operation = documented(request.method, request.url.path)
    if operation is None or request.method == "HEAD":
        return  # unknown routes and methods: their tests check the 404/405 bodies
    await response.aread()
    status = str(response.status_code)
    where = f"{request.method} {request.url.path} -> {status}"
    assert status in operation["responses"], f"{where}: status not documented"
    spec = operation["responses"][status]
    content = spec.get("content")
    if not content:
        assert not response.content, f"{where}: documented without a body"
        return
    media = response.headers.get("content-type", "").split(";", 1)[0].strip()
    assert media in content, f"{where}: {media!r} not among {sorted(content)}"
    schema = content[media].get("schema")
    if schema is None or not HAS_JSONSCHEMA or not media.endswith("json"):
        return
    jsonschema: Any = importlib.import_module("jsonschema")  # untyped; optional
    body = orjson.loads(response.content)
    jsonschema.validate(body, _inline(schema), cls=jsonschema.Draft202012Validator)
