"""Adding and removing a named vector of an existing collection through
qdrant-client (`create_vector_name`, `delete_vector_name`, Qdrant 1.18+):
existing points lack a new vector, writes and searches use it, a removed
vector's data never comes back (also when the name is added again with another
size), and the 400/404 answers. Expectations are computed here in numpy."""
import httpx
import numpy as np
import pytest
from qdrant_client import models

from helpers import exact_top, expect_status

N = 60


def create(client, name, rng):
    client.create_collection(name, vectors_config={"a": models.VectorParams(size=4, distance=models.Distance.EUCLID),
                                                   "b": models.VectorParams(size=4, distance=models.Distance.EUCLID)},
                             # A tiny threshold: batches are sealed and written as immutable segments.
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
    a = rng.normal(size=(N, 4)).astype(np.float32)
    b = rng.normal(size=(N, 4)).astype(np.float32)
    for start in range(0, N, 20):
        client.upsert(name, points=[models.PointStruct(id=i, vector={"a": a[i].tolist(), "b": b[i].tolist()}, payload={"i": i})
                                    for i in range(start, start + 20)])
    return a, b


def has_vector_count(client, name, vector):
    return client.count(name, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector=vector)])).count


def vector_names(client, name):
    records, _ = client.scroll(name, limit=1000, with_vectors=True)
    return {r.id: set((r.vector or {}).keys()) for r in records}


@pytest.mark.single_node("adding or removing a named vector is not replicated yet")
def test_add_write_search_remove_and_readd(client, name):
    rng = np.random.default_rng(11)
    a, _ = create(client, name, rng)

    result = client.create_vector_name(name, "v", vector_name_config=models.DenseVectorNameConfig(
        dense=models.DenseVectorConfig(size=3, distance=models.Distance.DOT)))
    assert result.status == models.UpdateStatus.COMPLETED and result.operation_id is not None
    params = client.get_collection(name).config.params.vectors
    assert set(params) == {"a", "b", "v"}
    assert params["v"].size == 3 and params["v"].distance == models.Distance.DOT
    # Existing points lack it.
    assert has_vector_count(client, name, "v") == 0
    assert client.query_points(name, query=[1.0, 0.0, 0.0], using="v", limit=10).points == []
    assert all(names == {"a", "b"} for names in vector_names(client, name).values())

    v = rng.normal(size=(N, 3)).astype(np.float32)
    written = list(range(0, N, 3))
    client.update_vectors(name, points=[models.PointVectors(id=i, vector={"v": v[i].tolist()}) for i in written])
    assert has_vector_count(client, name, "v") == len(written)
    query = rng.normal(size=3).astype(np.float32)
    hits = client.query_points(name, query=query.tolist(), using="v", limit=5).points
    want_ids, want_scores = exact_top(written, v[written], query, "Dot", 5)
    assert [h.id for h in hits] == want_ids
    np.testing.assert_allclose([h.score for h in hits], want_scores, rtol=1e-4, atol=1e-4)
    # The other vectors are untouched.
    hits = client.query_points(name, query=a[7].tolist(), using="a", limit=1).points
    assert [h.id for h in hits] == [7]

    # Remove "b": unknown from then on, and no point has it.
    result = client.delete_vector_name(name, "b")
    assert result.status == models.UpdateStatus.COMPLETED
    assert set(client.get_collection(name).config.params.vectors) == {"a", "v"}
    body = expect_status(lambda: client.query_points(name, query=[0.0, 0.0, 0.0, 1.0], using="b", limit=3), 400)
    assert "b" in body
    expect_status(lambda: has_vector_count(client, name, "b"), 400)
    expect_status(lambda: client.upsert(name, points=[models.PointStruct(id=999, vector={"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]})]), 400)
    assert all("b" not in names for names in vector_names(client, name).values())

    # Add "b" back with the same size (old rows would fit) and then with another size: nothing old comes back.
    client.create_vector_name(name, "b", vector_name_config=models.DenseVectorNameConfig(
        dense=models.DenseVectorConfig(size=4, distance=models.Distance.EUCLID)))
    assert has_vector_count(client, name, "b") == 0
    assert client.query_points(name, query=[0.0, 0.0, 0.0, 1.0], using="b", limit=10).points == []
    client.delete_vector_name(name, "b")
    client.create_vector_name(name, "b", vector_name_config=models.DenseVectorNameConfig(
        dense=models.DenseVectorConfig(size=2, distance=models.Distance.COSINE)))
    assert has_vector_count(client, name, "b") == 0
    assert client.query_points(name, query=[1.0, 0.0], using="b", limit=10).points == []
    client.update_vectors(name, points=[models.PointVectors(id=5, vector={"b": [0.0, 2.0]})])
    hits = client.query_points(name, query=[0.0, 1.0], using="b", limit=10).points
    assert [(h.id, round(h.score, 5)) for h in hits] == [(5, 1.0)]
    assert client.count(name).count == N
    assert client.retrieve(name, [5], with_vectors=True)[0].vector["b"] == pytest.approx([0.0, 1.0])


@pytest.mark.single_node("adding or removing a named vector is not replicated yet")
def test_sparse_vector_name(client, name):
    rng = np.random.default_rng(12)
    create(client, name, rng)
    client.create_vector_name(name, "s", vector_name_config=models.SparseVectorNameConfig(
        sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF)))
    sparse = client.get_collection(name).config.params.sparse_vectors
    assert set(sparse) == {"s"} and sparse["s"].modifier == models.Modifier.IDF
    assert has_vector_count(client, name, "s") == 0
    client.update_vectors(name, points=[models.PointVectors(id=2, vector={"s": models.SparseVector(indices=[4], values=[1.5])})])
    hits = client.query_points(name, query=models.SparseVector(indices=[4], values=[1.0]), using="s", limit=5).points
    assert [h.id for h in hits] == [2]
    client.delete_vector_name(name, "s")
    assert not client.get_collection(name).config.params.sparse_vectors
    expect_status(lambda: client.query_points(name, query=models.SparseVector(indices=[4], values=[1.0]), using="s"), 400)


@pytest.mark.single_node("adding or removing a named vector is not replicated yet")
def test_multivector_name(client, name):
    rng = np.random.default_rng(14)
    create(client, name, rng)
    client.create_vector_name(name, "colbert", vector_name_config=models.DenseVectorNameConfig(
        dense=models.DenseVectorConfig(size=2, distance=models.Distance.DOT,
                                       multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM))))
    params = client.get_collection(name).config.params.vectors["colbert"]
    assert params.size == 2 and params.multivector_config.comparator == models.MultiVectorComparator.MAX_SIM
    client.update_vectors(name, points=[models.PointVectors(id=1, vector={"colbert": [[1.0, 0.0], [0.0, 1.0]]}),
                                        models.PointVectors(id=2, vector={"colbert": [[0.5, 0.5]]})])
    # max_sim: point 1 scores 1 + 2 = 3, point 2 scores 0.5 + 1 = 1.5.
    hits = client.query_points(name, query=[[1.0, 0.0], [0.0, 2.0]], using="colbert", limit=5).points
    assert [(h.id, round(h.score, 5)) for h in hits] == [(1, 3.0), (2, 1.5)]
    assert client.retrieve(name, [1], with_vectors=True)[0].vector["colbert"] == [[1.0, 0.0], [0.0, 1.0]]
    client.delete_vector_name(name, "colbert")
    # Back as a plain vector of 4 (two old rows would fit): nothing old.
    client.create_vector_name(name, "colbert", vector_name_config=models.DenseVectorNameConfig(
        dense=models.DenseVectorConfig(size=4, distance=models.Distance.DOT)))
    assert has_vector_count(client, name, "colbert") == 0
    assert client.query_points(name, query=[1.0, 0.0, 0.0, 1.0], using="colbert", limit=5).points == []


@pytest.mark.single_node("adding or removing a named vector is not replicated yet")
def test_errors(client, server, name):
    rng = np.random.default_rng(13)
    create(client, name, rng)
    dense = models.DenseVectorNameConfig(dense=models.DenseVectorConfig(size=3, distance=models.Distance.DOT))
    body = expect_status(lambda: client.create_vector_name("missing_" + name, "v", vector_name_config=dense), 404)
    assert "doesn't exist" in body
    expect_status(lambda: client.delete_vector_name("missing_" + name, "v"), 404)
    body = expect_status(lambda: client.create_vector_name(name, "a", vector_name_config=dense), 400)
    assert "already has a vector named" in body
    body = expect_status(lambda: client.delete_vector_name(name, "nope"), 400)
    assert "no vector named" in body
    client.create_vector_name(name, "s", vector_name_config=models.SparseVectorNameConfig(sparse=models.SparseVectorConfig()))
    body = expect_status(lambda: client.create_vector_name(name, "s", vector_name_config=dense), 400)
    assert "already has a vector named" in body
    # Sparse values are float32 only (dense vectors take float16 and uint8 too).
    response = httpx.put(f"{server.url}/collections/{name}/vectors/v", json={"sparse": {"datatype": "uint8"}})
    assert response.status_code == 400 and "float32" in response.text
    # Raw bodies: neither or both kinds, a bad size, an unknown distance.
    url = f"{server.url}/collections/{name}/vectors/v"
    for body in [{}, {"dense": {"size": 3, "distance": "Dot"}, "sparse": {}}, {"dense": {"size": 0, "distance": "Dot"}},
                 {"dense": {"size": 3, "distance": "Nope"}}, {"sparse": {"modifier": "bm25"}}]:
        response = httpx.put(url, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["status"]["error"]
    # Nothing of that changed the collection.
    info = client.get_collection(name).config.params
    assert set(info.vectors) == {"a", "b"} and set(info.sparse_vectors) == {"s"}
    assert client.count(name).count == N
    # The response shape of a success, raw.
    response = httpx.put(url, json={"dense": {"size": 3, "distance": "Dot", "datatype": "float32"}}, params={"wait": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["result"]["status"] == "completed" and isinstance(body["result"]["operation_id"], int)
    response = httpx.delete(url)
    assert response.status_code == 200 and response.json()["result"]["status"] == "completed"
