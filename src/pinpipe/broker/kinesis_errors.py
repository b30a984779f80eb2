"""What botocore's exceptions mean for a pinpipe user: each becomes a pinpipe error that names
the stream, the action and the fix (throttling is a retryable BackpressureError)."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from pinpipe.errors import (
    BackpressureError,
    BrokerError,
    BrokerUnavailableError,
    PinpipeError,
    TopicExistsError,
    UnknownTopicError,
)

NOT_FOUND = "ResourceNotFoundException"
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException"}
)
CREDENTIAL_CODES = frozenset(
    {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"}
    | {"ExpiredTokenException", "ExpiredToken"}
)


def code_of(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "?")


def kinesis_error(
    exc: ClientError | BotoCoreError, *, stream: str | None, action: str, endpoint: str
) -> PinpipeError:
    """The pinpipe error for a failed Kinesis call ``action`` on ``stream``."""
    target = f" on stream {stream!r}" if stream else ""
    if isinstance(exc, ClientError):
        code, text = code_of(exc), exc.response.get("Error", {}).get("Message", str(exc))
        if code == NOT_FOUND and stream:
            return UnknownTopicError(stream)
        if code == "ResourceInUseException" and stream and action == "CreateStream":
            return TopicExistsError(stream)
        if code == "LimitExceededException" and action == "CreateStream":
            msg = f"cannot create stream {stream!r}: {text}"
            hint = "delete streams no longer needed, or ask AWS for a higher shard limit"
            return BrokerError(msg, hint=hint)
        if code in THROTTLING_CODES:
            msg = f"Kinesis is throttling {action}{target} ({code}: {text})"
            return BackpressureError(msg, retry_after=1.0)
        if code in CREDENTIAL_CODES:
            msg = f"Kinesis refused {action}{target}: {code}: {text}"
            hint = "check the AWS credentials and that their IAM policy allows kinesis:*"
            return BrokerError(msg, hint=hint)
        msg = f"Kinesis {action}{target} failed: {code}: {text}"
        return BrokerError(msg, hint="see the AWS Kinesis API reference for the code")
    if isinstance(exc, BotoConnectionError | ReadTimeoutError):
        msg = f"cannot reach Kinesis at {endpoint} ({action}{target}): {exc}"
        hint = "check kinesis.endpoint_url (PINPIPE_KINESIS__ENDPOINT_URL), the region, network"
        return BrokerUnavailableError(msg, hint=hint)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        msg = f"no usable AWS credentials for Kinesis ({action}{target}): {exc}"
        hint = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        return BrokerError(msg, hint=hint)
    msg = f"Kinesis {action}{target} failed: {exc}"
    return BrokerError(msg, hint="check the Kinesis settings and the network")
