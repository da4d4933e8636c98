"""Vector datatypes (`float16`, `uint8`) through qdrant-client: the collection
reports them, vectors come back rounded as Qdrant stores them (binary16; bytes
truncated toward zero and clamped to 0…255), exact search ranks and scores the
rounded vectors (expectations computed here with numpy), before and after the
optimizer writes compact segments, and bad input is a 400 that changes nothing."""
import time

import httpx
import numpy as np
import pytest
from qdrant_client import models

from helpers import expect_status

N = 300
DIM = 16


def stored(vector, datatype, distance):
    v = np.asarray(vector, dtype=np.float64)
    if datatype == models.Datatype.UINT8:
        return np.clip(np.trunc(v), 0, 255)  # not normalised under Cosine: scored by the raw bytes' cosine
    if distance == models.Distance.COSINE:
        v = v / np.linalg.norm(v)
    return v.astype(np.float32).astype(np.float16).astype(np.float64)


def scores(query, rows, distance, datatype):
    if distance == models.Distance.COSINE and datatype == models.Datatype.UINT8:
        norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(query)
        return np.divide(rows @ query, norms, out=np.zeros(len(rows)), where=norms > 0)
    if distance in (models.Distance.COSINE, models.Distance.DOT):
        return rows @ query
    if distance == models.Distance.EUCLID:
        return np.sqrt(((rows - query) ** 2).sum(axis=1))
    return np.abs(rows - query).sum(axis=1)


def random_vectors(rng, datatype, count):
    if datatype == models.Datatype.UINT8:
        return rng.uniform(0, 260, size=(count, DIM)).astype(np.float32)  # some above 255: clamped
    return rng.normal(size=(count, DIM)).astype(np.float32)


CASES = [
    (models.Datatype.FLOAT16, models.Distance.COSINE),
    (models.Datatype.FLOAT16, models.Distance.EUCLID),
    (models.Datatype.UINT8, models.Distance.COSINE),
    (models.Datatype.UINT8, models.Distance.DOT),
    (models.Datatype.UINT8, models.Distance.MANHATTAN),
]


@pytest.mark.parametrize("datatype,distance", CASES, ids=lambda c: str(getattr(c, "value", c)))
def test_rounded_storage_and_exact_search(client, name, datatype, distance):
    rng = np.random.default_rng(abs(hash((datatype.value, distance.value))) % 2**32)
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=DIM, distance=distance, datatype=datatype),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=64),
    )
    info = client.get_collection(name)
    assert info.config.params.vectors.datatype == datatype
    vectors = random_vectors(rng, datatype, N)
    client.upsert(name, points=models.Batch(ids=list(range(N)), vectors=vectors.tolist()))
    expected = np.stack([stored(v, datatype, distance) for v in vectors])

    def same_vector(returned, want):
        # JSON carries float32's shortest form; under Cosine the server normalises in
        # float32, which may land a value on the other side of a binary16 rounding boundary.
        got = np.asarray(returned, dtype=np.float32)
        if distance == models.Distance.COSINE:
            return np.allclose(got, want.astype(np.float32), rtol=1e-3, atol=1e-6)
        return np.array_equal(got, want.astype(np.float32))

    got = client.retrieve(name, ids=[0, 1, N - 1], with_vectors=True)
    for record in got:
        assert same_vector(record.vector, expected[record.id]), record.id

    def check():
        for _ in range(5):
            raw = random_vectors(rng, datatype, 1)[0]
            query = stored(raw, datatype, distance)
            s = scores(query, expected, distance, datatype)
            order = np.argsort(-s if distance in (models.Distance.COSINE, models.Distance.DOT) else s, kind="stable")
            hits = client.query_points(
                name, query=raw.tolist(), limit=5, search_params=models.SearchParams(exact=True)
            ).points
            # The true top-5 scores in order, each its point's true score (bytes give whole-number
            # distances, so equal scores may list other ids).
            assert [h.score for h in hits] == pytest.approx([s[i] for i in order[:5]], rel=1e-4, abs=1e-4)
            for h in hits:
                assert h.score == pytest.approx(s[h.id], rel=1e-4, abs=1e-4)
            if len(set(np.round(s[order[:6]], 6))) == 6:
                assert [h.id for h in hits] == [int(i) for i in order[:5]]

    check()
    # The interval flush writes the points into an immutable, compact, indexed segment.
    client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(flush_interval_sec=1))
    deadline = time.time() + 30
    while sum(s.points_count for s in client.get_optimizations(name, with_=["idle_segments"]).idle_segments) < N:
        assert time.time() < deadline, "the points never reached an immutable segment"
        time.sleep(0.2)
    check()
    got = client.retrieve(name, ids=[5], with_vectors=True)
    assert same_vector(got[0].vector, expected[5])


def test_uint8_cosine_multivectors_and_unknown_datatypes_are_refused(server, client, name):
    message = expect_status(lambda: client.create_collection(
        name,
        vectors_config=models.VectorParams(
            size=2, distance=models.Distance.COSINE, datatype=models.Datatype.UINT8,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)),
    ), 400)
    assert "uint8" in message
    assert not client.collection_exists(name)
    response = httpx.put(
        f"{server.url}/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot", "datatype": "int4"}}
    )
    assert response.status_code == 400 and "int4" in response.text


def test_float16_overflow_is_refused_and_changes_nothing(client, name):
    client.create_collection(
        name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT, datatype=models.Datatype.FLOAT16)
    )
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 2.0])])
    assert "65504" in expect_status(lambda: client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 70000.0])]),
                                    400)
    assert client.retrieve(name, ids=[1], with_vectors=True)[0].vector == [1.0, 2.0]
