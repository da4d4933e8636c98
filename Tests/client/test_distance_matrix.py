"""The distance matrix API (`search_matrix_pairs`, `search_matrix_offsets`)
through qdrant-client, compared with qdrant-client's local mode on the same
random data. With `sample` at least the number of matching points every one
of them is sampled, so the matrix is fully determined."""
import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from helpers import expect_status

DIM = 5
N = 30
M = models


@pytest.fixture(scope="module")
def local():
    c = QdrantClient(":memory:")
    yield c
    c.close()


def setup(client, name, seed, distance):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    client.create_collection(name, vectors_config={"v": M.VectorParams(size=DIM, distance=distance)})
    client.upsert(name, points=[M.PointStruct(id=i, vector={"v": vectors[i].tolist()}, payload={"odd": i % 2 == 1})
                                for i in range(N)], wait=True)


ODD = M.Filter(must=[M.FieldCondition(key="odd", match=M.MatchValue(value=True))])


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("distance", [M.Distance.DOT, M.Distance.COSINE, M.Distance.EUCLID, M.Distance.MANHATTAN])
def test_matrix_matches_local_mode(client, local, name, seed, distance):
    setup(client, name, seed, distance)
    setup(local, name, seed, distance)
    for query_filter, sample, limit in ((None, N, 3), (ODD, 50, 4), (ODD, 15, 1)):
        args = dict(collection_name=name, query_filter=query_filter, sample=sample, limit=limit, using="v")
        got, want = client.search_matrix_pairs(**args), local.search_matrix_pairs(**args)
        assert [(p.a, p.b) for p in got.pairs] == [(p.a, p.b) for p in want.pairs]
        np.testing.assert_allclose([p.score for p in got.pairs], [p.score for p in want.pairs], rtol=1e-5, atol=1e-4)
        got, want = client.search_matrix_offsets(**args), local.search_matrix_offsets(**args)
        assert got.ids == want.ids
        assert got.offsets_row == want.offsets_row and got.offsets_col == want.offsets_col
        np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-4)


def test_sampling_and_validation(client, name):
    setup(client, name, 3, M.Distance.COSINE)
    pairs = client.search_matrix_pairs(name, sample=8, limit=2, using="v").pairs
    ids = {p.a for p in pairs}
    assert len(ids) == 8 and len(pairs) == 16
    assert all(p.b in ids and p.b != p.a for p in pairs)
    offsets = client.search_matrix_offsets(name, sample=8, limit=2, using="v")
    assert len(offsets.ids) == 8 and offsets.ids == sorted(offsets.ids)
    assert offsets.offsets_row == [r for r in range(8) for _ in range(2)]
    # Fewer than two matching points: an empty matrix.
    one = M.Filter(must=[M.HasIdCondition(has_id=[4])])
    assert client.search_matrix_pairs(name, query_filter=one, using="v").pairs == []
    empty = client.search_matrix_offsets(name, query_filter=one, using="v")
    assert (empty.ids, empty.offsets_row, empty.offsets_col, empty.scores) == ([], [], [], [])
    for bad in (dict(sample=1), dict(limit=0)):
        expect_status(lambda: client.search_matrix_pairs(name, using="v", **bad), 422)
    expect_status(lambda: client.search_matrix_pairs(name, using="nope"), 400)
