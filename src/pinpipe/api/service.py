"""Operational routes: ``/healthz``, ``/metrics`` (Prometheus text), ``/openapi.json``."""

from __future__ import annotations

import functools

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.api import metrics as prometheus
from pinpipe.api.errors import endpoint
from pinpipe.api.openapi import document
from pinpipe.api.state import api_state

kafka = endpoint("kafka")


@kafka
async def healthz(request: Request) -> Response:
    api = api_state(request)
    if not api.is_open:
        body = orjson.dumps({"status": "starting"})
        return Response(body, 503, headers={"Retry-After": "1"}, media_type="application/json")
    content = {
        "status": "ok",
        "topics_backend": api.topics.backend,
        "streams_backend": api.streams.backend,
        "pending_records": sum(w.pending for w in api.writers()),
        "consumer_instances": len(api.consumers),
    }
    return Response(orjson.dumps(content), media_type="application/json")


@kafka
async def metrics(request: Request) -> Response:
    api = api_state(request)
    api.consumers.expire()
    writers = [(w.broker.backend, w) for w in api.writers()]
    gauges = [
        prometheus.Gauge(
            "pinpipe_api_pending_records",
            "Records accepted and not yet appended (429 past api.max_pending_records).",
            tuple(({"backend": b}, float(w.pending)) for b, w in writers),
        ),
        prometheus.Gauge(
            "pinpipe_api_writer_appends_total",
            "Broker appends made by the coalescing writer (one per topic per batch).",
            tuple(({"backend": b}, float(w.stats.appends)) for b, w in writers),
            kind="counter",
        ),
        prometheus.Gauge(
            "pinpipe_api_writer_records_per_second",
            "Recent append rate of the coalescing writer (moving average).",
            tuple(({"backend": b}, w.stats.rate) for b, w in writers),
        ),
        prometheus.Gauge(
            "pinpipe_api_consumer_instances",
            "Live REST Proxy consumer instances.",
            (({}, float(len(api.consumers))),),
        ),
    ]
    return Response(api.metrics.render(gauges), media_type=prometheus.CONTENT_TYPE)


@functools.cache
def _openapi_body() -> bytes:
    return orjson.dumps(document())


@kafka
async def openapi(request: Request) -> Response:
    return Response(_openapi_body(), media_type="application/json")
