"""Error bodies of the two route families, and the one exception handlers raise.

The Kafka REST Proxy family answers Confluent's ``{"error_code": …, "message": …}``; the
Kinesis family answers AWS' ``{"__type": …, "message": …}``. Handlers raise :class:`ApiError`
with a :class:`Problem` and never think about the family: the route's wrapper renders it.

=========================  ================  ============================================
problem                    REST Proxy        Kinesis-style
=========================  ================  ============================================
MALFORMED_JSON             400 / 400         400 SerializationException
INVALID_REQUEST            422 / 42201       400 ValidationException
INVALID_ARGUMENT           422 / 42201       400 InvalidArgumentException
INVALID_PARTITION          422 / 42202       400 InvalidArgumentException
INVALID_CONSUMER_CONFIG    422 / 42204       400 ValidationException
UNKNOWN_TOPIC              404 / 40401       400 ResourceNotFoundException
UNKNOWN_PARTITION          404 / 40402       400 ResourceNotFoundException
UNKNOWN_CONSUMER           404 / 40403       400 ResourceNotFoundException
NOT_ACCEPTABLE             406 / 40601       406 NotAcceptableException
CONSUMER_EXISTS            409 / 40902       400 ResourceInUseException
TOPIC_EXISTS               409 / 40904       400 ResourceInUseException
EXPIRED_ITERATOR           400 / 40002       400 ExpiredIteratorException
BODY_TOO_LARGE             413 / 41301       413 RequestEntityTooLargeException
RECORD_TOO_LARGE           413 / 41301       400 ValidationException
UNSUPPORTED_MEDIA_TYPE     415 / 415         415 UnsupportedMediaTypeException
FORBIDDEN                  403 / 40301       403 AccessDeniedException
BACKPRESSURE               429 / 42901       400 ProvisionedThroughputExceededException
TOO_MANY_CONSUMERS         429 / 42902       400 LimitExceededException
UNAVAILABLE                503 / 50301       503 ServiceUnavailable
INTERNAL                   500 / 50001       500 InternalFailure
ROUTE_NOT_FOUND            404 / 404         404 UnknownOperationException
METHOD_NOT_ALLOWED         405 / 405         405 UnknownOperationException
=========================  ================  ============================================

BACKPRESSURE and UNAVAILABLE carry ``Retry-After`` (whole seconds). Kinesis throttling is a 400
as on AWS, so boto-style clients retry it by its ``__type``.
"""

from __future__ import annotations

import enum
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Literal

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinpipe.errors import (
    BackpressureError,
    BrokerError,
    BrokerUnavailableError,
    InvalidNameError,
    InvalidPartitionError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    TopicExistsError,
    Transient,
    UnknownTopicError,
)

logger = logging.getLogger("pinpipe.api")

Family = Literal["kafka", "kinesis"]

KAFKA_V2 = "application/vnd.kafka.v2+json"
KINESIS_JSON = "application/json"


@enum.unique
class Problem(enum.Enum):
    """(REST Proxy status, error_code, Kinesis status, __type) of each kind of failure."""

    MALFORMED_JSON = (400, 400, 400, "SerializationException")
    INVALID_REQUEST = (422, 42201, 400, "ValidationException")
    INVALID_ARGUMENT = (422, 42201, 400, "InvalidArgumentException")
    INVALID_PARTITION = (422, 42202, 400, "InvalidArgumentException")
    INVALID_CONSUMER_CONFIG = (422, 42204, 400, "ValidationException")
    UNKNOWN_TOPIC = (404, 40401, 400, "ResourceNotFoundException")
    UNKNOWN_PARTITION = (404, 40402, 400, "ResourceNotFoundException")
    UNKNOWN_CONSUMER = (404, 40403, 400, "ResourceNotFoundException")
    NOT_ACCEPTABLE = (406, 40601, 406, "NotAcceptableException")
    CONSUMER_EXISTS = (409, 40902, 400, "ResourceInUseException")
    TOPIC_EXISTS = (409, 40904, 400, "ResourceInUseException")
    EXPIRED_ITERATOR = (400, 40002, 400, "ExpiredIteratorException")
    BODY_TOO_LARGE = (413, 41301, 413, "RequestEntityTooLargeException")
    RECORD_TOO_LARGE = (413, 41301, 400, "ValidationException")
    UNSUPPORTED_MEDIA_TYPE = (415, 415, 415, "UnsupportedMediaTypeException")
    FORBIDDEN = (403, 40301, 403, "AccessDeniedException")
    BACKPRESSURE = (429, 42901, 400, "ProvisionedThroughputExceededException")
    TOO_MANY_CONSUMERS = (429, 42902, 400, "LimitExceededException")
    UNAVAILABLE = (503, 50301, 503, "ServiceUnavailable")
    INTERNAL = (500, 50001, 500, "InternalFailure")
    ROUTE_NOT_FOUND = (404, 404, 404, "UnknownOperationException")
    METHOD_NOT_ALLOWED = (405, 405, 405, "UnknownOperationException")

    def status(self, family: Family) -> int:
        return self.value[0] if family == "kafka" else self.value[2]


class ApiError(Exception):
    """A request the API refuses; rendered in the format of the route's family."""

    def __init__(
        self,
        problem: Problem,
        message: str,
        *,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def response(self, family: Family) -> Response:
        return error_response(
            family, self.problem, self.message, retry_after=self.retry_after, headers=self.headers
        )


def error_response(
    family: Family,
    problem: Problem,
    message: str,
    *,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error body of ``problem`` in ``family``'s format."""
    _, code, _, aws_type = problem.value
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if family == "kafka":
        body = orjson.dumps({"error_code": code, "message": message})
        media_type = KAFKA_V2
    else:
        body = orjson.dumps({"__type": aws_type, "message": message})
        media_type = KINESIS_JSON
    return Response(body, problem.status(family), headers=headers, media_type=media_type)


def from_broker_error(exc: BrokerError) -> ApiError:
    """The API's answer to an error the broker raised."""
    text = str(exc)
    if isinstance(exc, UnknownTopicError):
        return ApiError(Problem.UNKNOWN_TOPIC, text)
    if isinstance(exc, TopicExistsError):
        return ApiError(Problem.TOPIC_EXISTS, text)
    if isinstance(exc, InvalidNameError):
        return ApiError(Problem.INVALID_REQUEST, text)
    if isinstance(exc, InvalidPartitionError):
        return ApiError(Problem.INVALID_PARTITION, text)
    if isinstance(exc, OffsetOutOfRangeError):
        return ApiError(Problem.INVALID_ARGUMENT, text)
    if isinstance(exc, RecordTooLargeError):
        return ApiError(Problem.RECORD_TOO_LARGE, text)
    if isinstance(exc, BackpressureError):
        return ApiError(Problem.BACKPRESSURE, text, retry_after=exc.retry_after)
    if isinstance(exc, BrokerUnavailableError | Transient):
        return ApiError(Problem.UNAVAILABLE, text, retry_after=1.0)
    logger.error("broker error: %s", text)
    return ApiError(Problem.INTERNAL, f"the broker failed: {text}")


def family_of_path(route_path: str) -> Family:
    """Which family answers a path without its stage (``/streams…`` is Kinesis-style)."""
    return "kinesis" if route_path == "/streams" or route_path.startswith("/streams/") else "kafka"


Handler = Callable[[Request], Awaitable[Response]]


def endpoint(family: Family) -> Callable[[Handler], Handler]:
    """Wrap a handler: ApiError and BrokerError become ``family``'s error body, and anything
    unexpected a logged 500 in that format (tests make sure none occurs)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return exc.response(family)
            except BrokerError as exc:
                return from_broker_error(exc).response(family)
            except Exception:
                logger.exception("unexpected error in %s %s", request.method, request.url.path)
                return error_response(family, Problem.INTERNAL, "internal error; see the API log")

        return run

    return wrap
