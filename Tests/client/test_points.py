"""Upsert, retrieve, scroll, count, delete and payload operations through qdrant-client."""
import uuid

import numpy as np
import pytest
from qdrant_client import models

from conftest import TRANSPORT
from helpers import expect_status


def make_collection(client, name, size=4, distance=models.Distance.DOT):
    client.create_collection(name, vectors_config=models.VectorParams(size=size, distance=distance))


def test_upsert_list_form_and_retrieve(client, name):
    make_collection(client, name)
    result = client.upsert(name, points=[
        models.PointStruct(id=1, vector=[1, 2, 3, 4], payload={"title": "one", "tags": ["a", "b"], "n": 1.5}),
        models.PointStruct(id=2, vector=[4, 3, 2, 1]),
    ], wait=True)
    assert result.status == models.UpdateStatus.COMPLETED
    records = client.retrieve(name, ids=[2, 1, 99], with_vectors=True)
    assert [r.id for r in records] == [2, 1]
    assert records[1].payload == {"title": "one", "tags": ["a", "b"], "n": 1.5}
    assert records[1].vector == [1, 2, 3, 4]
    assert records[0].payload == {}
    # qdrant-client reads a gRPC record's payload map as a dict even when it is empty
    # (its REST path keeps the null), so without payload it is {} over gRPC, as with Qdrant.
    assert client.retrieve(name, ids=[1], with_payload=False)[0].payload == (None if TRANSPORT == "rest" else {})
    assert client.retrieve(name, ids=[1], with_payload=["title"])[0].payload == {"title": "one"}
    assert client.retrieve(name, ids=[1], with_payload=models.PayloadSelectorExclude(exclude=["tags"]))[0].payload == {
        "title": "one", "n": 1.5}


def test_upsert_batch_form_named_vectors(client, name):
    client.create_collection(name, vectors_config={
        "a": models.VectorParams(size=2, distance=models.Distance.DOT),
        "b": models.VectorParams(size=3, distance=models.Distance.EUCLID)})
    client.upsert(name, points=models.Batch(
        ids=[10, 11], vectors={"a": [[1, 0], [0, 1]], "b": [[1, 1, 1], [2, 2, 2]]},
        payloads=[{"k": 1}, {"k": 2}]))
    records = client.retrieve(name, ids=[10, 11], with_vectors=True)
    assert records[0].vector == {"a": [1, 0], "b": [1, 1, 1]}
    assert records[1].payload == {"k": 2}
    only_b = client.retrieve(name, ids=[10], with_vectors=["b"])[0]
    assert only_b.vector == {"b": [1, 1, 1]}


def test_upload_points_in_parallel(client, name):
    make_collection(client, name, size=8)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(500, 8)).astype(np.float32)
    points = [models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"i": i}) for i in range(500)]
    client.upload_points(name, points=points, batch_size=50, parallel=2, wait=True)
    assert client.count(name).count == 500
    got = client.retrieve(name, ids=[0, 123, 499], with_vectors=True)
    for record in got:
        np.testing.assert_allclose(record.vector, vectors[record.id], rtol=1e-6)
        assert record.payload == {"i": record.id}


def test_scroll_pages_over_mixed_int_and_uuid_ids(client, name):
    make_collection(client, name, size=2)
    uuids = [str(uuid.UUID(int=(i * 7919) << 64 | i)) for i in range(1, 26)]
    numbers = list(range(1000, 1025))
    ids = numbers + uuids
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(k)]) for k, i in enumerate(ids)])
    seen, offset, pages = [], None, 0
    while True:
        points, offset = client.scroll(name, limit=7, offset=offset, with_payload=False)
        seen.extend(p.id for p in points)
        pages += 1
        if offset is None:
            break
    assert pages == 8
    assert len(seen) == len(set(seen)) == 50
    # Numbers first in numeric order, then UUIDs in a stable order.
    assert seen[:25] == numbers
    assert sorted(seen[25:]) == sorted(uuids)
    assert seen[25:] == sorted(uuids, key=lambda u: u.upper())


def test_count_and_delete_by_ids(client, name):
    make_collection(client, name, size=2)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(10)])
    assert client.count(name).count == 10
    assert client.count(name, exact=True).count == 10
    client.delete(name, points_selector=models.PointIdsList(points=[1, 3, 5, 77]))
    assert client.count(name).count == 7
    assert [r.id for r in client.retrieve(name, ids=list(range(10)))] == [0, 2, 4, 6, 7, 8, 9]


def test_every_payload_operation(client, name):
    make_collection(client, name, size=2)
    client.upsert(name, points=[
        models.PointStruct(id=1, vector=[1, 0], payload={"a": 1, "b": "x"}),
        models.PointStruct(id=2, vector=[0, 1], payload={"a": 2}),
    ])
    client.set_payload(name, payload={"c": True, "a": 10}, points=[1])
    assert client.retrieve(name, ids=[1])[0].payload == {"a": 10, "b": "x", "c": True}
    client.overwrite_payload(name, payload={"only": [1, 2]}, points=[1])
    assert client.retrieve(name, ids=[1])[0].payload == {"only": [1, 2]}
    client.set_payload(name, payload={"d": {"e": None}}, points=[2])
    client.delete_payload(name, keys=["a"], points=[2])
    assert client.retrieve(name, ids=[2])[0].payload == {"d": {"e": None}}
    client.clear_payload(name, points_selector=models.PointIdsList(points=[1, 2]))
    assert [r.payload for r in client.retrieve(name, ids=[1, 2])] == [{}, {}]
    client.set_payload(name, payload={"x": 1}, points=[1], key="nested.path")
    assert client.retrieve(name, ids=[1])[0].payload == {"nested": {"path": {"x": 1}}}


def test_batch_update_points(client, name):
    make_collection(client, name, size=2)
    results = client.batch_update_points(name, update_operations=[
        models.UpsertOperation(upsert=models.PointsList(points=[
            models.PointStruct(id=1, vector=[1, 0], payload={"a": 1}),
            models.PointStruct(id=2, vector=[0, 1])])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"b": 2}, points=[1, 2])),
        models.DeletePayloadOperation(delete_payload=models.DeletePayload(keys=["a"], points=[1])),
        models.DeleteOperation(delete=models.PointIdsList(points=[2])),
    ])
    assert [r.status for r in results] == [models.UpdateStatus.COMPLETED] * 4
    assert results[0].operation_id < results[-1].operation_id
    assert [(r.id, r.payload) for r in client.retrieve(name, ids=[1, 2])] == [(1, {"b": 2})]
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1, i], payload={"i": i}) for i in range(3, 7)])
    results = client.batch_update_points(name, update_operations=[
        models.OverwritePayloadOperation(overwrite_payload=models.SetPayload(payload={"o": True}, points=[3, 4])),
        models.ClearPayloadOperation(clear_payload=models.FilterSelector(filter=models.Filter(must=[
            models.FieldCondition(key="i", range=models.Range(gte=6))]))),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"deep": 1}, points=[5], key="a.b")),
        models.DeleteOperation(delete=models.FilterSelector(filter=models.Filter(must=[
            models.HasIdCondition(has_id=[1])]))),
    ])
    assert len(results) == 4
    assert [(r.id, r.payload) for r in client.retrieve(name, ids=[1, 3, 4, 5, 6])] == [
        (3, {"o": True}), (4, {"o": True}), (5, {"i": 5, "a": {"b": {"deep": 1}}}), (6, {})]
    # A bad operation fails the batch before any of it applies.
    expect_status(lambda: client.batch_update_points(name, update_operations=[
        models.DeleteOperation(delete=models.PointIdsList(points=[3])),
        models.UpsertOperation(upsert=models.PointsList(points=[models.PointStruct(id=9, vector=[1, 2, 3])]))]), 400)
    assert client.count(name).count == 4


@pytest.mark.rest_only
def test_get_point_by_id_over_http(client, server, name):
    import httpx
    make_collection(client, name, size=2)
    client.upsert(name, points=[models.PointStruct(id=5, vector=[1, 2], payload={"p": 1})])
    body = httpx.get(f"{server.url}/collections/{name}/points/5").json()
    assert body["status"] == "ok" and body["result"]["id"] == 5 and body["result"]["vector"] == [1, 2]
    missing = httpx.get(f"{server.url}/collections/{name}/points/6")
    assert missing.status_code == 404 and "No point with id 6 found" in missing.json()["status"]["error"]
    bad = httpx.get(f"{server.url}/collections/{name}/points/not-an-id")
    assert bad.status_code == 400


def test_update_and_delete_named_vectors(client, name):
    client.create_collection(name, vectors_config={"a": models.VectorParams(size=2, distance=models.Distance.EUCLID),
                                                   "b": models.VectorParams(size=3, distance=models.Distance.DOT)})
    client.upsert(name, points=[models.PointStruct(id=i, vector={"a": [float(i), 0.0], "b": [1.0, 0.0, 0.0]}, payload={"i": i})
                                for i in range(5)])
    client.update_vectors(name, points=[models.PointVectors(id=2, vector={"a": [50.0, 50.0]})])
    client.delete_vectors(name, vectors=["b"], points=[3])
    records = {r.id: r for r in client.retrieve(name, ids=[2, 3], with_vectors=True)}
    assert records[2].vector == {"a": [50.0, 50.0], "b": [1.0, 0.0, 0.0]} and records[2].payload == {"i": 2}
    assert records[3].vector == {"a": [3.0, 0.0]}
    hit = client.query_points(name, query=[50.0, 50.0], using="a", limit=1).points[0]
    assert hit.id == 2
    assert client.count(name, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="b")])).count == 4
    # By filter, and in a batch; a missing point or an unknown vector name changes nothing.
    client.delete_vectors(name, vectors=["b"], points=models.Filter(must=[
        models.FieldCondition(key="i", range=models.Range(gte=4))]))
    client.batch_update_points(name, update_operations=[
        models.UpdateVectorsOperation(update_vectors=models.UpdateVectors(points=[models.PointVectors(id=0, vector={"b": [0.0, 1.0, 0.0]})])),
        models.DeleteVectorsOperation(delete_vectors=models.DeleteVectors(points=[1], vector=["a"]))])
    records = {r.id: r for r in client.retrieve(name, ids=[0, 1, 4], with_vectors=True)}
    assert records[0].vector["b"] == [0.0, 1.0, 0.0] and records[1].vector == {"b": [1.0, 0.0, 0.0]} and "b" not in records[4].vector
    expect_status(lambda: client.update_vectors(name, points=[models.PointVectors(id=99, vector={"a": [1.0, 1.0]})]),
                  404)
    expect_status(lambda: client.delete_vectors(name, vectors=["nope"], points=[1]), 400)


def test_update_mode_update_filter_ordered_scroll_and_facets(client, name):
    make_collection(client, name, size=2)
    client.upsert(name, points=[
        models.PointStruct(id=i, vector=[1.0, float(i)], payload={"v": i, "kind": "odd" if i % 2 else "even",
                                                                  "flag": i % 3 == 0})
        for i in range(6)])

    def payload(i):
        found = client.retrieve(name, ids=[i])
        return found[0].payload if found else None

    def point(i, v):
        return models.PointStruct(id=i, vector=[0.5, 0.5], payload={"v": v, "kind": "new", "flag": False})

    client.upsert(name, points=[point(1, 100), point(10, 10)], update_mode=models.UpdateMode.INSERT_ONLY)
    assert payload(1)["v"] == 1 and payload(10)["v"] == 10
    client.upsert(name, points=[point(2, 20), point(11, 11)], update_mode=models.UpdateMode.UPDATE_ONLY)
    assert payload(2)["v"] == 20 and payload(11) is None
    odd = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="odd"))])
    client.upsert(name, points=[point(3, 30), point(4, 40)], update_filter=odd)
    assert payload(3)["v"] == 30 and payload(4)["v"] == 4
    # Vectors under an update filter too: point 5 is odd, point 0 is not.
    client.update_vectors(name, points=[models.PointVectors(id=5, vector=[9.0, 9.0]),
                                        models.PointVectors(id=0, vector=[9.0, 9.0])], update_filter=odd)
    vectors = {r.id: r.vector for r in client.retrieve(name, ids=[0, 5], with_vectors=True)}
    assert vectors == {0: [1.0, 0.0], 5: [9.0, 9.0]}

    client.create_payload_index(name, field_name="v", field_schema=models.IntegerIndexParams(
        type=models.IntegerIndexType.INTEGER, lookup=False, range=True))
    client.create_payload_index(name, field_name="kind", field_schema=models.PayloadSchemaType.KEYWORD)
    client.create_payload_index(name, field_name="flag", field_schema=models.PayloadSchemaType.BOOL)
    schema = client.get_collection(name).payload_schema
    assert schema["v"].data_type == models.PayloadSchemaType.INTEGER and schema["v"].params.lookup is False
    values = {r.id: r.payload["v"] for r in client.scroll(name, limit=100)[0]}
    page, _ = client.scroll(name, limit=3, order_by=models.OrderBy(
        key="v", direction=models.Direction.DESC, start_from=20))
    want = sorted((v for v in values.values() if v <= 20), reverse=True)[:3]
    assert [p.payload["v"] for p in page] == want and [p.order_value for p in page] == want
    page, _ = client.scroll(name, limit=2, order_by=models.OrderBy(key="v", start_from=4))
    assert [p.payload["v"] for p in page] == sorted(v for v in values.values() if v >= 4)[:2]

    kinds = {hit.value: hit.count for hit in client.facet(name, key="kind").hits}
    flags = {hit.value: hit.count for hit in client.facet(name, key="flag").hits}
    payloads = [r.payload for r in client.scroll(name, limit=100)[0]]
    assert kinds == {k: sum(p["kind"] == k for p in payloads) for k in {p["kind"] for p in payloads}}
    assert flags == {f: sum(p["flag"] == f for p in payloads) for f in (True, False)}
    assert client.count(name, count_filter=odd, exact=False).count == sum(p["kind"] == "odd" for p in payloads)


@pytest.mark.single_node("a payload's integral double comes back from a collection of several shards as an integer over gRPC: the shard router speaks REST's JSON, which has no 1.0 apart from 1")
def test_point_rpcs_through_the_raw_stubs(server, client, name):
    """What qdrant-client 1.20 never sends, over gRPC: the deprecated vector layouts
    (`data` with `indices` or `vectors_count`), selectors left out, malformed ids and
    vectors, and inference inputs Strata has no model for."""
    import grpc
    from qdrant_client import QdrantClient, grpc as g
    client.create_collection(name, vectors_config={
        "d": models.VectorParams(size=2, distance=models.Distance.DOT),
        "m": models.VectorParams(size=2, distance=models.Distance.DOT, multivector_config=models.MultiVectorConfig(
            comparator=models.MultiVectorComparator.MAX_SIM))}, sparse_vectors_config={"s": models.SparseVectorParams()})
    remote = QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, timeout=60)
    stub = remote.grpc_points

    def vectors(**named):
        return g.Vectors(vectors=g.NamedVectors(vectors=named))

    def upsert(*points, **options):
        return stub.Upsert(g.UpsertPoints(collection_name=name, wait=True, points=list(points), **options))

    reply = upsert(g.PointStruct(
        id=g.PointId(num=1), payload={"n": g.Value(integer_value=7), "x": g.Value(double_value=1.0)},
        vectors=vectors(d=g.Vector(data=[1, 2]), m=g.Vector(data=[1, 0, 0, 1, 1, 1], vectors_count=3),
                        s=g.Vector(data=[0.5, 2], indices=g.SparseIndices(data=[7, 3])))))
    assert reply.result.status == g.UpdateStatus.Completed and reply.result.HasField("operation_id")
    record = client.retrieve(name, ids=[1], with_vectors=True)[0]
    assert record.vector["d"] == [1, 2] and record.vector["m"] == [[1, 0], [0, 1], [1, 1]]
    assert record.vector["s"].indices == [3, 7] and record.vector["s"].values == [2, 0.5]
    # Integers stay integers, doubles stay doubles.
    got = stub.Get(g.GetPoints(collection_name=name, ids=[g.PointId(num=1)],
                               with_payload=g.WithPayloadSelector(enable=True))).result[0]
    assert got.payload["n"].WhichOneof("kind") == "integer_value"
    assert got.payload["x"].WhichOneof("kind") == "double_value"
    # Without selectors, Get returns neither payload nor vectors, Scroll the payload (as Qdrant).
    got = stub.Get(g.GetPoints(collection_name=name, ids=[g.PointId(num=1)])).result[0]
    assert not got.payload and not got.HasField("vectors")
    got = stub.Scroll(g.ScrollPoints(collection_name=name)).result[0]
    assert got.payload["n"].integer_value == 7 and not got.HasField("vectors")

    def code(call):
        with pytest.raises(grpc.RpcError) as error:
            call()
        return error.value.code(), error.value.details()

    # A payload selector with no option set is refused, as Qdrant refuses it.
    assert code(lambda: stub.Get(g.GetPoints(collection_name=name, ids=[g.PointId(num=1)],
                                             with_payload=g.WithPayloadSelector()))) == \
        (grpc.StatusCode.INVALID_ARGUMENT, "No PayloadSelector")

    bad = [
        g.PointStruct(id=g.PointId(uuid="not-a-uuid"), vectors=vectors(d=g.Vector(data=[1, 2]))),
        g.PointStruct(id=g.PointId(num=2), vectors=vectors(d=g.Vector(data=[1, float("nan")]))),
        g.PointStruct(id=g.PointId(num=2), vectors=vectors(m=g.Vector(data=[1, 2, 3], vectors_count=2))),
        g.PointStruct(id=g.PointId(num=2), vectors=vectors(m=g.Vector(multi_dense=g.MultiDenseVector(vectors=[])))),
        g.PointStruct(id=g.PointId(num=2), vectors=g.Vectors(vector=g.Vector(sparse=g.SparseVector(
            indices=[1], values=[1.0])))),
        g.PointStruct(id=g.PointId(num=2)),
        g.PointStruct(vectors=vectors(d=g.Vector(data=[1, 2]))),
        g.PointStruct(id=g.PointId(num=2), vectors=vectors(d=g.Vector(data=[1, 2])),
                      payload={"x": g.Value(double_value=float("inf"))}),
    ]
    for point in bad:
        status, details = code(lambda: upsert(point))
        assert status == grpc.StatusCode.INVALID_ARGUMENT, (point, status, details)
    assert "Unable to parse UUID" in code(lambda: upsert(bad[0]))[1]
    status, _ = code(lambda: upsert(g.PointStruct(id=g.PointId(num=2), vectors=vectors(
        d=g.Vector(image=g.Image(image=g.Value(string_value="x.png"), model="clip"))))))
    assert status == grpc.StatusCode.UNIMPLEMENTED
    status, _ = code(lambda: stub.Delete(g.DeletePoints(collection_name=name, wait=True)))
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    status, _ = code(lambda: stub.Count(g.CountPoints(collection_name="missing_" + name)))
    assert status == grpc.StatusCode.NOT_FOUND
    assert client.count(name).count == 1
    remote.close()
