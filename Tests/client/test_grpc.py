"""Qdrant's gRPC API itself, whatever STRATA_TRANSPORT says: credentials on
every RPC of every service, the request size limit, malformed messages, and
deadlines (a query whose call is abandoned stops and frees its thread)."""
import concurrent.futures
import re
import shutil
import subprocess
import time

import grpc
import httpx
import pytest
from google.protobuf import message_factory
from qdrant_client import QdrantClient, models
from qdrant_client import grpc as g  # every message class, whichever .proto defines it
from qdrant_client.grpc import collections_service_pb2, points_service_pb2, qdrant_pb2, snapshots_service_pb2

import helpers
from conftest import StrataServer

API_KEY = "grpc-suite-api-key"
READ_ONLY_KEY = "grpc-suite-read-only-key"


def jwt(claims: dict) -> str:
    return helpers.jwt(claims, API_KEY)


def every_rpc():
    """(full method path, request class) of every RPC Qdrant's clients can call."""
    for module in (collections_service_pb2, points_service_pb2, snapshots_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                yield f"/{service.full_name}/{method.name}", message_factory.GetMessageClass(method.input_type)


def call(channel, path, request_class, request=None, metadata=(), timeout=10):
    """One unary call with raw bytes back; returns the grpc status code."""
    stub = channel.unary_unary(path, request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
                               response_deserializer=lambda b: b)
    try:
        stub(request if request is not None else request_class(), metadata=metadata, timeout=timeout)
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()


@pytest.fixture(scope="module")
def secured():
    srv = StrataServer(env={"STRATA_API_KEY": API_KEY, "STRATA_READ_ONLY_API_KEY": READ_ONLY_KEY})
    yield srv
    assert srv.stop() == 0


def grpc_client(server, **options) -> QdrantClient:
    return QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, check_compatibility=False,
                        timeout=60, **options)


def test_every_rpc_refuses_a_call_without_valid_credentials(secured):
    rpcs = list(every_rpc())
    assert len(rpcs) == 50, "Collections (14) + Points (30) + Snapshots (6)"
    with grpc.insecure_channel(f"127.0.0.1:{secured.grpc_port}") as channel:
        for path, request_class in rpcs:
            assert call(channel, path, request_class) == grpc.StatusCode.UNAUTHENTICATED, path
            assert call(channel, path, request_class, metadata=(("api-key", "wrong"),)) == \
                grpc.StatusCode.UNAUTHENTICATED, path
        # The health check needs none (as in Qdrant), and says which API level answers.
        reply = qdrant_pb2.HealthCheckReply.FromString(channel.unary_unary(
            "/qdrant.Qdrant/HealthCheck", request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=lambda b: b)(qdrant_pb2.HealthCheckRequest(), timeout=10))
        root = httpx.get(f"{secured.url}/", headers={"api-key": API_KEY}).json()
        assert (reply.title, reply.version) == (root["title"], root["version"])


def test_keys_and_jwt_over_grpc(secured):
    admin = grpc_client(secured, api_key=API_KEY)
    for name in ("docs", "other"):
        admin.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    admin.upsert("docs", points=[models.PointStruct(id=1, vector=[1, 0])])

    reader = grpc_client(secured, api_key=READ_ONLY_KEY)
    assert reader.count("docs").count == 1
    for write in (lambda: reader.upsert("docs", points=[models.PointStruct(id=2, vector=[0, 1])]),
                  lambda: reader.delete_collection("docs"),
                  lambda: reader.create_collection("new", vectors_config=models.VectorParams(
                      size=2, distance=models.Distance.DOT))):
        with pytest.raises(grpc.RpcError) as error:
            write()
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert admin.count("docs").count == 1
    assert "new" not in [c.name for c in admin.get_collections().collections]

    scoped = grpc_client(secured, api_key=jwt({"access": [{"collection": "docs", "access": "rw"}]}))
    assert [c.name for c in scoped.get_collections().collections] == ["docs"]
    scoped.upsert("docs", points=[models.PointStruct(id=2, vector=[0, 1])])
    with pytest.raises(grpc.RpcError) as error:
        scoped.count("other")
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED

    expired = grpc_client(secured, api_key=jwt({"access": "m", "exp": 1}))
    with pytest.raises(grpc.RpcError) as error:
        expired.get_collections()
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # A bearer token in `authorization`, as the other clients send it.
    with grpc.insecure_channel(f"127.0.0.1:{secured.grpc_port}") as channel:
        request = g.CountPoints(collection_name="docs", exact=True)
        assert call(channel, "/qdrant.Points/Count", None, request,
                    metadata=(("authorization", f"Bearer {READ_ONLY_KEY}"),)) == grpc.StatusCode.OK


@pytest.fixture(scope="module")
def limited():
    srv = StrataServer("--max-request-size", "200000")
    yield srv
    assert srv.stop() == 0


def test_a_message_over_the_size_limit_is_refused_and_changes_nothing(limited):
    client = grpc_client(limited)
    client.create_collection("big", vectors_config=models.VectorParams(size=64, distance=models.Distance.DOT))
    client.upsert("big", points=[models.PointStruct(id=i, vector=[0.5] * 64) for i in range(10)])
    with pytest.raises(grpc.RpcError) as error:
        # 1,000 × 64 floats ≈ 260 KB: over the 200,000-byte limit.
        client.upsert("big", points=[models.PointStruct(id=i, vector=[0.25] * 64) for i in range(1000)])
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert client.count("big").count == 10
    client.upsert("big", points=[models.PointStruct(id=20, vector=[1.0] * 64)])
    assert client.count("big").count == 11


def test_malformed_messages_get_invalid_argument_and_the_server_keeps_serving(limited):
    client = grpc_client(limited)
    client.create_collection("m", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    with grpc.insecure_channel(f"127.0.0.1:{limited.grpc_port}") as channel:
        for garbage in (b"\xff\xff\xff\xff", b"\x0a\xff\x01abc", b"\x12\x05\x0a\x03\x08"):
            code = call(channel, "/qdrant.Points/Upsert", None, garbage)
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (garbage, code)
        # Well-formed protobuf that is not a valid request: no collection, a wrong dimension.
        assert call(channel, "/qdrant.Points/Upsert", None, g.UpsertPoints()) in (
            grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
        wrong = g.UpsertPoints(collection_name="m", points=[g.PointStruct(
            id=g.PointId(num=1), vectors=g.Vectors(vector=g.Vector(data=[1, 2, 3])))])
        assert call(channel, "/qdrant.Points/Upsert", None, wrong) == grpc.StatusCode.INVALID_ARGUMENT
    assert client.count("m").count == 0
    client.upsert("m", points=[models.PointStruct(id=1, vector=[1, 0])])
    assert client.count("m").count == 1


def cancelled_queries(server) -> int:
    text = httpx.get(f"{server.url}/metrics").text
    return int(re.search(r"^strata_queries_cancelled_total (\d+)$", text, re.M).group(1))


def test_abandoned_queries_stop_and_free_the_engine_thread():
    # One engine thread: queries queue behind each other. Each is heavy (many
    # exact prefetch stages); their 50 ms deadlines pass while they wait, and
    # each must then stop at its next check instead of running to the end.
    srv = StrataServer("--engine-threads", "1")
    try:
        client = grpc_client(srv)
        client.create_collection("slow", vectors_config=models.VectorParams(size=128, distance=models.Distance.DOT))
        for start in range(0, 4000, 500):
            client.upsert("slow", points=[models.PointStruct(id=i, vector=[((i * 7 + d) % 13) / 13 for d in range(128)])
                                          for i in range(start, start + 500)])
        heavy = g.QueryPoints(
            collection_name="slow", limit=10,
            prefetch=[g.PrefetchQuery(
                query=g.Query(nearest=g.VectorInput(dense=g.DenseVector(
                    data=[(k + d) % 5 / 5 for d in range(128)]))),
                params=g.SearchParams(exact=True), limit=100) for k in range(40)],
            query=g.Query(fusion=g.Fusion.RRF))
        before = cancelled_queries(srv)
        with grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}") as channel:
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                codes = list(pool.map(lambda _: call(channel, "/qdrant.Points/Query", None, heavy, timeout=0.05),
                                      range(32)))
        assert grpc.StatusCode.DEADLINE_EXCEEDED in codes
        # The engine counted queries that stopped early: their work was not done for nobody.
        deadline_passed = codes.count(grpc.StatusCode.DEADLINE_EXCEEDED)
        for _ in range(100):
            if cancelled_queries(srv) > before:
                break
            time.sleep(0.05)
        stopped = cancelled_queries(srv) - before
        print(f"{deadline_passed} calls past their deadline, {stopped} queries stopped by it")
        assert stopped >= 1, (deadline_passed, codes)
        # And the thread is free again: a plain query answers.
        assert len(client.query_points("slow", query=[1.0] * 128, limit=3).points) == 3
    finally:
        assert srv.stop() == 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls_on_the_grpc_port(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    srv = StrataServer("--tls-cert", str(cert), "--tls-key", str(key), "--api-key", API_KEY, scheme="https",
                       verify=str(cert))
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{srv.grpc_port}", credentials) as channel:
            listed = channel.unary_unary("/qdrant.Collections/List", request_serializer=lambda m: m.SerializeToString(),
                                         response_deserializer=g.ListCollectionsResponse.FromString)
            assert list(listed(g.ListCollectionsRequest(), metadata=(("api-key", API_KEY),),
                               timeout=10).collections) == []
            assert call(channel, "/qdrant.Collections/List", g.ListCollectionsRequest) == \
                grpc.StatusCode.UNAUTHENTICATED
        # Plaintext gRPC to the TLS port does not get an answer.
        with grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}") as channel:
            assert call(channel, "/qdrant.Collections/List", g.ListCollectionsRequest,
                        metadata=(("api-key", API_KEY),), timeout=3) == grpc.StatusCode.UNAVAILABLE
    finally:
        assert srv.stop() == 0


def test_a_taken_grpc_port_stops_the_server_with_a_clear_error(tmp_path):
    first = StrataServer()
    try:
        from conftest import free_port, strata_binary
        second = subprocess.run(
            [strata_binary(), "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()),
             "--grpc-port", str(first.grpc_port)], capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"gRPC server on 127.0.0.1:{first.grpc_port}" in second.stderr, second.stderr
        assert "Address already in use" in second.stderr, second.stderr
    finally:
        assert first.stop() == 0
