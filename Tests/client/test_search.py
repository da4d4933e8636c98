"""Nearest-neighbour queries through qdrant-client, checked against exact numpy results."""
import httpx
import numpy as np
import pytest
from qdrant_client import models

from helpers import assert_same_neighbours, exact_top, expect_status

DISTANCES = ["Cosine", "Dot", "Euclid", "Manhattan"]


def load(client, name, distance, n=300, dim=16, seed=1):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    client.create_collection(name, vectors_config=models.VectorParams(size=dim, distance=models.Distance(distance)))
    client.upsert(name, points=[models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"i": i}) for i in range(n)])
    return list(range(n)), vectors, rng


@pytest.mark.parametrize("distance", DISTANCES)
def test_query_by_vector_matches_exact_search(client, name, distance):
    ids, vectors, rng = load(client, name, distance)
    for _ in range(5):
        query = rng.normal(size=16).astype(np.float32)
        hits = client.query_points(name, query=query.tolist(), limit=10).points
        assert_same_neighbours(hits, ids, vectors, query, distance, 10)
        # qdrant-client asks for payloads by default, not for vectors.
        assert all(h.payload == {"i": h.id} and h.vector is None for h in hits)
    bare = client.query_points(name, query=query.tolist(), limit=3, with_payload=False).points
    assert all(h.payload is None for h in bare)


def test_query_params_offset_threshold_payload_and_vectors(client, name):
    ids, vectors, rng = load(client, name, "Dot")
    query = rng.normal(size=16).astype(np.float32)
    want_ids, want_scores = exact_top(ids, vectors, query, "Dot", 15)
    for params in [models.SearchParams(exact=True), models.SearchParams(hnsw_ef=128),
                   models.SearchParams(quantization=models.QuantizationSearchParams(ignore=True, rescore=True, oversampling=2.0))]:
        hits = client.query_points(name, query=query.tolist(), limit=5, offset=10, search_params=params,
                                   with_payload=True, with_vectors=True).points
        assert [h.id for h in hits] == want_ids[10:15]
        assert [h.payload for h in hits] == [{"i": i} for i in want_ids[10:15]]
        np.testing.assert_allclose(hits[0].vector, vectors[want_ids[10]], rtol=1e-6)
    # Qdrant keeps scores strictly better than the threshold.
    threshold = want_scores[3]
    hits = client.query_points(name, query=query.tolist(), limit=10, score_threshold=threshold).points
    assert [h.id for h in hits] == want_ids[:3]


def test_query_by_point_id_excludes_the_point(client, name):
    ids, vectors, _ = load(client, name, "Euclid")
    hits = client.query_points(name, query=7, limit=5).points
    want, _ = exact_top(ids, vectors, vectors[7], "Euclid", 6)
    assert 7 not in [h.id for h in hits]
    assert [h.id for h in hits] == [i for i in want if i != 7][:5]
    nearest = client.query_points(name, query=models.NearestQuery(nearest=7), limit=5).points
    assert [h.id for h in nearest] == [h.id for h in hits]


def test_query_named_vector_with_using(client, name):
    client.create_collection(name, vectors_config={
        "a": models.VectorParams(size=3, distance=models.Distance.DOT),
        "b": models.VectorParams(size=3, distance=models.Distance.EUCLID)})
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(50, 3)).astype(np.float32), rng.normal(size=(50, 3)).astype(np.float32)
    client.upsert(name, points=[models.PointStruct(id=i, vector={"a": a[i].tolist(), "b": b[i].tolist()}) for i in range(50)])
    q = rng.normal(size=3).astype(np.float32)
    hits = client.query_points(name, query=q.tolist(), using="b", limit=4, with_vectors=["b"]).points
    assert_same_neighbours(hits, list(range(50)), b, q, "Euclid", 4)
    assert set(hits[0].vector) == {"b"}
    expect_status(lambda: client.query_points(name, query=q.tolist(), using="missing"), 400)


def test_query_batch(client, name):
    ids, vectors, rng = load(client, name, "Cosine")
    queries = rng.normal(size=(3, 16)).astype(np.float32)
    responses = client.query_batch_points(name, requests=[
        models.QueryRequest(query=q.tolist(), limit=3) for q in queries])
    assert len(responses) == 3
    for response, q in zip(responses, queries):
        assert_same_neighbours(response.points, ids, vectors, q, "Cosine", 3)


def test_legacy_search_endpoints(server, client, name):
    ids, vectors, rng = load(client, name, "Dot")
    q = rng.normal(size=16).astype(np.float32)
    want, _ = exact_top(ids, vectors, q, "Dot", 4)
    body = httpx.post(f"{server.url}/collections/{name}/points/search",
                      json={"vector": q.tolist(), "limit": 4, "with_payload": True}).json()
    assert [p["id"] for p in body["result"]] == want
    assert body["result"][0]["payload"] == {"i": want[0]}
    batch = httpx.post(f"{server.url}/collections/{name}/points/search/batch",
                       json={"searches": [{"vector": q.tolist(), "limit": 2}, {"vector": q.tolist(), "limit": 3}]}).json()
    assert [[p["id"] for p in r] for r in batch["result"]] == [want[:2], want[:3]]


def test_legacy_search_rpcs(server, client, name):
    """Search and SearchBatch over gRPC (qdrant-client 1.20 reaches them only through its raw
    stubs) answer as REST's legacy search: filter, params, offset, threshold, selectors."""
    from qdrant_client import QdrantClient, grpc as g
    remote = QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, timeout=60)
    ids, vectors, rng = load(client, name, "Dot")
    q = rng.normal(size=16).astype(np.float32)
    want, scores = exact_top(ids, vectors, q, "Dot", 8)
    stub = remote.grpc_points
    got = stub.Search(g.SearchPoints(collection_name=name, vector=q.tolist(), limit=4, offset=2,
                                     with_payload=g.WithPayloadSelector(enable=True),
                                     with_vectors=g.WithVectorsSelector(enable=True),
                                     params=g.SearchParams(exact=True))).result
    assert [p.id.num for p in got] == want[2:6]
    np.testing.assert_allclose([p.score for p in got], scores[2:6], rtol=1e-5)
    assert [p.payload["i"].integer_value for p in got] == want[2:6]
    np.testing.assert_allclose(got[0].vectors.vector.dense.data, vectors[want[2]], rtol=1e-6)
    odd = g.Filter(must=[g.Condition(field=g.FieldCondition(key="i", range=g.Range(gte=150)))])
    batch = stub.SearchBatch(g.SearchBatchPoints(collection_name=name, search_points=[
        g.SearchPoints(collection_name=name, vector=q.tolist(), limit=3, filter=odd),
        g.SearchPoints(collection_name=name, vector=q.tolist(), limit=10, score_threshold=scores[4])])).result
    high = [i for i in exact_top(ids, vectors, q, "Dot", 300)[0] if i >= 150][:3]
    assert [p.id.num for p in batch[0].result] == high and all(not p.payload for p in batch[0].result)
    assert [p.id.num for p in batch[1].result] == want[:4]
    expect_status(lambda: stub.Search(g.SearchPoints(collection_name=name, vector=q.tolist(), limit=0)), 422)
    expect_status(lambda: stub.Search(g.SearchPoints(collection_name=name, vector=[1.0, 2.0], limit=3)), 400)
    remote.close()




@pytest.mark.parametrize("quantization", [
    None,
    models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True)),
    models.BinaryQuantization(binary=models.BinaryQuantizationConfig(always_ram=True)),
])
def test_indexed_segments_answer_through_the_graph(client, name, quantization):
    """Segments past indexing_threshold get an HNSW graph (and codes); graph
    search finds the exact neighbours, exact=True equals numpy exactly."""
    import time
    rng = np.random.default_rng(7)
    n, dim = 3000, 64
    basis = rng.normal(size=(8, dim))
    vectors = (rng.normal(size=(n, 8)) @ basis + 0.1 * rng.normal(size=(n, dim))).astype(np.float32)
    client.create_collection(
        name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=64),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100), quantization_config=quantization)
    client.upload_points(name, points=[models.PointStruct(id=i, vector=vectors[i].tolist()) for i in range(n)], batch_size=500)
    deadline = time.time() + 60
    while True:
        info = client.get_collection(name)
        if info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count >= n - 300:
            break
        assert time.time() < deadline, f"indexing did not finish: {info}"
        time.sleep(0.2)
    ids = list(range(n))
    hits_total = 0
    for _ in range(20):
        query = (rng.normal(size=8) @ basis).astype(np.float32)
        want_ids, _ = exact_top(ids, vectors, query, "Cosine", 10)
        params = models.SearchParams(hnsw_ef=128, quantization=models.QuantizationSearchParams(rescore=True, oversampling=4.0))
        hits = client.query_points(name, query=query.tolist(), limit=10, search_params=params).points
        hits_total += len(set(h.id for h in hits) & set(want_ids))
        exact = client.query_points(name, query=query.tolist(), limit=10, search_params=models.SearchParams(exact=True)).points
        assert_same_neighbours(exact, ids, vectors, query, "Cosine", 10)
    assert hits_total / 200 >= 0.9
