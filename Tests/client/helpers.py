"""Exact expectations computed independently in numpy (float64), and shared test helpers."""
import base64
import hashlib
import hmac
import json

import numpy as np

HIGHER_IS_BETTER = {"Cosine": True, "Dot": True, "Euclid": False, "Manhattan": False}


def scores(vectors: np.ndarray, query: np.ndarray, distance: str) -> np.ndarray:
    v = vectors.astype(np.float64)
    q = query.astype(np.float64)
    if distance == "Cosine":
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        q = q / np.linalg.norm(q)
        return v @ q
    if distance == "Dot":
        return v @ q
    if distance == "Euclid":
        return np.linalg.norm(v - q, axis=1)
    if distance == "Manhattan":
        return np.abs(v - q).sum(axis=1)
    raise ValueError(distance)


def exact_top(ids: list, vectors: np.ndarray, query: np.ndarray, distance: str, k: int):
    """(ids, scores) of the k best points, best first."""
    s = scores(vectors, query, distance)
    order = np.argsort(-s if HIGHER_IS_BETTER[distance] else s, kind="stable")[:k]
    return [ids[i] for i in order], [float(s[i]) for i in order]


def assert_same_neighbours(hits, ids, vectors, query, distance, k, tol=1e-4):
    """Hits equal the exact top-k: same scores (to tol) in order, and the same ids
    wherever scores are not tied."""
    want_ids, want_scores = exact_top(ids, vectors, query, distance, k)
    got_scores = [h.score for h in hits]
    assert len(hits) == len(want_ids)
    np.testing.assert_allclose(got_scores, want_scores, rtol=tol, atol=tol)
    all_scores = scores(vectors, query, distance)
    for hit in hits:
        index = ids.index(hit.id)
        assert abs(all_scores[index] - hit.score) <= tol * max(1, abs(hit.score)), (hit.id, hit.score, all_scores[index])
    assert set(h.id for h in hits) == set(want_ids) or len(set(np.round(want_scores, 4))) < len(want_scores)


# gRPC status codes Qdrant answers with for each REST status (both 400 and 422
# are InvalidArgument over gRPC).
GRPC_CODE_OF_STATUS = {400: "INVALID_ARGUMENT", 422: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
                       403: "PERMISSION_DENIED", 404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 409: "ALREADY_EXISTS",
                       429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}


def expect_status(call, *statuses):
    """Runs `call`, which must fail with one of the REST `statuses` (over gRPC:
    with the gRPC code Qdrant uses for it); returns the error message (REST's
    `status.error`, gRPC's details: the same text)."""
    import json

    import grpc
    from qdrant_client.http.exceptions import UnexpectedResponse
    try:
        call()
    except UnexpectedResponse as error:
        assert error.status_code in statuses, (error.status_code, statuses, error.content)
        try:
            return json.loads(error.content)["status"]["error"]
        except (ValueError, KeyError, TypeError):
            return error.content.decode(errors="replace")
    except grpc.RpcError as error:
        assert error.code().name in {GRPC_CODE_OF_STATUS[s] for s in statuses}, (error.code(), statuses, error.details())
        return error.details()
    raise AssertionError(f"expected an error with status {statuses}")


def jwt(claims: dict, secret: str) -> str:
    """An HS256 JWT with `claims`, signed with `secret` (the server's API key)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())
