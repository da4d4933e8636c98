"""Multivectors (max_sim, ColBERT-style) through qdrant-client: collection config,
upsert (list and batch, named and unnamed), retrieve with rows, exact and indexed
query, reranking prefetched candidates, and 400s for bad input. Expectations are
computed here with numpy using Qdrant's max_sim definition."""
import numpy as np
import pytest
from qdrant_client import models

from helpers import expect_status

N = 120
DIM = 4
MAX_SIM = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)


def normalized(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def raw_max_sim(query, rows, distance):
    """Qdrant's raw max_sim similarity (recommend, discover, context): Σ max dot, or −Σ min ‖q−d‖² / L1."""
    q = np.asarray(query, dtype=np.float64)
    d = np.asarray(rows, dtype=np.float64)
    if distance == models.Distance.COSINE:
        return float((normalized(q) @ normalized(d).T).max(axis=1).sum())
    if distance == models.Distance.DOT:
        return float((q @ d.T).max(axis=1).sum())
    if distance == models.Distance.EUCLID:
        return -float((((q[:, None, :] - d[None, :, :]) ** 2).sum(-1)).min(axis=1).sum())
    return -float(np.abs(q[:, None, :] - d[None, :, :]).sum(-1).min(axis=1).sum())


def max_sim(query, rows, distance):
    """Qdrant's max_sim score: Σ over query rows of the best match among the point's rows
    (the raw similarity below, reported as the metric reports a score)."""
    raw = raw_max_sim(query, rows, distance)
    if distance == models.Distance.EUCLID:
        return float(np.sqrt(-raw))
    return -raw if distance == models.Distance.MANHATTAN else raw


def higher_is_better(distance):
    return distance in (models.Distance.COSINE, models.Distance.DOT)


def random_rows(rng):
    topic = rng.normal(size=DIM)
    return (topic + 0.5 * rng.normal(size=(int(rng.integers(1, 5)), DIM))).astype(np.float32)


class Data:
    def __init__(self, client, name, distance, seed=3):
        rng = np.random.default_rng(seed)
        self.distance = distance
        self.rows = {}
        self.dense = rng.normal(size=(N, 3)).astype(np.float32)
        client.create_collection(
            name,
            vectors_config={"colbert": models.VectorParams(size=DIM, distance=distance, multivector_config=MAX_SIM),
                            "dense": models.VectorParams(size=3, distance=models.Distance.DOT)},
            optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
        points = []
        for i in range(N // 2):
            vec = {"dense": self.dense[i].tolist()}
            if i % 9 != 0:  # some points have no multivector
                self.rows[i] = random_rows(rng)
                vec["colbert"] = self.rows[i].tolist()
            points.append(models.PointStruct(id=i, vector=vec, payload={"g": i % 3}))
        client.upsert(name, points=points)
        ids = list(range(N // 2, N))
        for i in ids:
            self.rows[i] = random_rows(rng)
        client.upsert(name, points=models.Batch(
            ids=ids, vectors={"dense": [self.dense[i].tolist() for i in ids], "colbert": [self.rows[i].tolist() for i in ids]},
            payloads=[{"g": i % 3} for i in ids]))

    def expected(self, query, k, candidates=None, keep=lambda pid: True):
        pool = self.rows if candidates is None else {pid: self.rows[pid] for pid in candidates if pid in self.rows}
        scored = [(pid, max_sim(query, rows, self.distance)) for pid, rows in pool.items() if keep(pid)]
        sign = -1 if higher_is_better(self.distance) else 1
        scored.sort(key=lambda h: (sign * h[1], h[0]))
        return scored[:k]


DISTANCES = [models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN]


@pytest.fixture(scope="module", params=DISTANCES, ids=lambda d: d.value)
def data(client, request):
    name = f"multi-{request.param.value.lower()}"
    if client.collection_exists(name):
        client.delete_collection(name)
    return Data(client, name, request.param)


def assert_hits(hits, expected):
    assert [h.id for h in hits] == [pid for pid, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-4, abs=1e-4)


def test_collection_info_and_retrieve_rows(client, data):
    name = f"multi-{data.distance.value.lower()}"
    info = client.get_collection(name)
    params = info.config.params.vectors["colbert"]
    assert params.multivector_config.comparator == models.MultiVectorComparator.MAX_SIM
    assert params.size == DIM and info.points_count == N
    records = {r.id: r for r in client.retrieve(name, ids=[1, 9, 100], with_vectors=True)}
    for pid in (1, 100):
        want = normalized(data.rows[pid]) if data.distance == models.Distance.COSINE else data.rows[pid]
        got = np.asarray(records[pid].vector["colbert"])
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-6)
    assert "colbert" not in records[9].vector  # point 9 has no multivector


@pytest.mark.parametrize("seed", range(4))
def test_query_is_exact_max_sim(client, data, seed):
    name = f"multi-{data.distance.value.lower()}"
    rng = np.random.default_rng(50 + seed)
    query = random_rows(rng)
    for k in (1, 10):
        hits = client.query_points(name, query=query.tolist(), using="colbert", limit=k,
                                   search_params=models.SearchParams(exact=True)).points
        assert_hits(hits, data.expected(query, k))
    g = seed % 3
    hits = client.query_points(name, query=query.tolist(), using="colbert", limit=5, search_params=models.SearchParams(exact=True),
                               query_filter=models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])).points
    assert_hits(hits, data.expected(query, 5, keep=lambda pid: pid % 3 == g))
    # Indexed (graph over the rows' means, candidates rescored): true max_sim scores.
    hits = client.query_points(name, query=query.tolist(), using="colbert", limit=10).points
    assert len(hits) == 10
    for h in hits:
        assert h.score == pytest.approx(max_sim(query, data.rows[h.id], data.distance), rel=1e-4, abs=1e-4)


def test_rerank_dense_candidates_with_the_multivector(client, data):
    name = f"multi-{data.distance.value.lower()}"
    rng = np.random.default_rng(7)
    dense_q = rng.normal(size=3).astype(np.float32)
    query = random_rows(rng)
    hits = client.query_points(name, prefetch=models.Prefetch(query=dense_q.tolist(), using="dense", limit=30,
                                                              params=models.SearchParams(exact=True)),
                               query=query.tolist(), using="colbert", limit=8).points
    candidates = np.argsort(-(data.dense.astype(np.float64) @ dense_q.astype(np.float64)), kind="stable")[:30]
    assert_hits(hits, data.expected(query, 8, candidates=[int(c) for c in candidates]))


def test_recommend_discover_context_compare_by_max_sim(client, data):
    name = f"multi-{data.distance.value.lower()}"
    pos, neg, target = 1, 2, 3
    candidates = [pid for pid in data.rows if pid not in (pos, neg, target)]

    def expect(query, formula, k=6):
        hits = client.query_points(name, query=query, using="colbert", limit=k).points
        scored = sorted(((pid, formula(pid)) for pid in candidates), key=lambda h: (-h[1], h[0]))[:k]
        assert_hits(hits, scored)

    def sim(example, pid):
        return raw_max_sim(data.rows[example], data.rows[pid], data.distance)

    def scaled(x):
        return 0.5 * (x / (1 + abs(x)) + 1)

    expect(models.RecommendQuery(recommend=models.RecommendInput(positive=[pos], negative=[neg], strategy=models.RecommendStrategy.SUM_SCORES)),
           lambda pid: sim(pos, pid) - sim(neg, pid))
    expect(models.RecommendQuery(recommend=models.RecommendInput(positive=[pos], negative=[neg], strategy=models.RecommendStrategy.BEST_SCORE)),
           lambda pid: scaled(sim(pos, pid)) if sim(pos, pid) > sim(neg, pid) else -scaled(sim(neg, pid)))
    pair = models.ContextPair(positive=pos, negative=neg)
    expect(models.DiscoverQuery(discover=models.DiscoverInput(target=target, context=pair)),
           lambda pid: float(np.sign(sim(pos, pid) - sim(neg, pid))) + scaled(sim(target, pid)))


def test_unnamed_multivector_collection(client):
    name = "multi-unnamed"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT, multivector_config=MAX_SIM))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[[1, 0], [0, 1]]), models.PointStruct(id=2, vector=[[2, 2]])])
    client.upsert(name, points=models.Batch(ids=[3], vectors=[[[0, 3], [1, 1], [-1, 0]]]))
    assert client.retrieve(name, ids=[3], with_vectors=True)[0].vector == [[0, 3], [1, 1], [-1, 0]]
    hits = client.query_points(name, query=[[1, 0], [0, 1]], limit=3).points
    # max_sim: point 1: 1 + 1 = 2; point 2: 2 + 2 = 4; point 3: max(0,1,-1) + max(3,1,0) = 4 → tie by id.
    assert [(h.id, h.score) for h in hits] == [(2, 4.0), (3, 4.0), (1, 2.0)]
    # A single dense vector is a one-row query.
    assert [h.id for h in client.query_points(name, query=[0, 1], limit=1).points] == [3]


def test_bad_multivectors_are_refused(client, data):
    name = f"multi-{data.distance.value.lower()}"
    expect_status(lambda: client.upsert(name, points=[
        models.PointStruct(id=1000, vector={"colbert": [[1, 2, 3, 4], [1, 2, 3]]})]), 400)
    expect_status(lambda: client.upsert(name, points=[models.PointStruct(id=1000, vector={"colbert": [[1, 2, 3]]})]), 400)
    expect_status(lambda: client.query_points(
        name, query=models.RecommendQuery(recommend=models.RecommendInput(positive=[])), using="colbert"), 400)
    expect_status(lambda: client.query_points(name, query=[[1, 2, 3]], using="dense"), 400)
    assert client.count(name).count == N  # nothing was written
