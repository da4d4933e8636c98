"""A refused call through qdrant-client over either transport.

Over REST the client raises `UnexpectedResponse` (HTTP status, Qdrant's error
body); over gRPC it passes the `grpc.RpcError` through untranslated (status
code, details). Qdrant answers each error with a fixed pair of HTTP status and
gRPC code, and the same message on both; `refused(status)` checks the one the
suite's transport gives and hands back the message:

    with refused(409) as error:
        client.create_collection(...)
    assert "already exists" in error.message
"""
import json
from contextlib import contextmanager

import grpc
import pytest
from qdrant_client.http.exceptions import UnexpectedResponse

# The gRPC code Qdrant answers for an error it answers over REST with this HTTP status.
GRPC_CODE = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    409: grpc.StatusCode.ALREADY_EXISTS,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    500: grpc.StatusCode.INTERNAL,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
    507: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class Refusal:
    """What the server said: `message` is Qdrant's error text (REST's
    `status.error`, gRPC's details)."""

    message: str = ""


@contextmanager
def refused(status: int):
    """Expects the block to be refused with HTTP `status` (or its gRPC code)."""
    refusal = Refusal()
    try:
        yield refusal
    except UnexpectedResponse as error:
        assert error.status_code == status, error.content
        refusal.message = json.loads(error.content)["status"]["error"] if error.content else ""
    except grpc.RpcError as error:
        assert error.code() == GRPC_CODE[status], (status, error.code(), error.details())
        refusal.message = error.details()
    else:
        pytest.fail(f"expected a refusal with status {status}")
