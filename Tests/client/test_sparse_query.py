"""recommend (average_vector, best_score, sum_scores), discover, context and MMR
with `using` a sparse vector, the legacy search/recommend endpoints with named
sparse vectors, and sparse vector updates and deletes seen by searches, through
qdrant-client and raw HTTP against a real `strata serve`. Expectations are
computed here from Qdrant's definitions (docs/query.md). Values are multiples of
0.25, so every dot product is exact in float32 and float64 and ties are exact."""
import math

import httpx
import numpy as np
import pytest
from qdrant_client import models

from helpers import expect_status

NAME = "sparse-query"
N = 120
VOCAB = 30


def random_sparse(rng, max_nnz=8):
    nnz = int(rng.integers(1, max_nnz + 1))
    terms = sorted(set(int(min(rng.integers(0, VOCAB), rng.integers(0, VOCAB))) for _ in range(nnz)))
    values = [float(rng.integers(1, 9)) / 4 for _ in terms]
    return terms, values


def as_dict(vec):
    return dict(zip(vec[0], vec[1]))


def dot(a, b):
    a, b = as_dict(a), as_dict(b)
    return sum(v * b[i] for i, v in a.items() if i in b)


def sigmoid(x):
    return x / (1 + abs(x))


def scaled_sigmoid(x):
    return 0.5 * (sigmoid(x) + 1)


def sv(vec):
    return models.SparseVector(indices=list(vec[0]), values=list(vec[1]))


def ranked(scored, k):
    """(id, score) best first, ties by id."""
    return sorted(scored, key=lambda h: (-h[1], h[0]))[:k]


def check(hits, want):
    assert [h.id for h in hits] == [pid for pid, _ in want]
    assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-6, abs=1e-7)


class Data:
    def __init__(self, client, seed=11):
        rng = np.random.default_rng(seed)
        if client.collection_exists(NAME):
            client.delete_collection(NAME)
        client.create_collection(
            NAME, vectors_config={"dense": models.VectorParams(size=2, distance=models.Distance.DOT)},
            sparse_vectors_config={"text": models.SparseVectorParams(),
                                   "idf": models.SparseVectorParams(modifier=models.Modifier.IDF)},
            # A tiny threshold: batches are sealed and written as immutable segments.
            optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
        self.text, self.idf, self.group = {}, {}, {}
        for start in (0, N // 2):
            points = []
            for i in range(start, start + N // 2):
                vec = {"dense": [1.0, 0.0]}
                if i % 9 != 4:
                    self.text[i] = random_sparse(rng)
                    vec["text"] = sv(self.text[i])
                if i % 5 != 2:
                    self.idf[i] = random_sparse(rng)
                    vec["idf"] = sv(self.idf[i])
                self.group[i] = i % 3
                points.append(models.PointStruct(id=i, vector=vec, payload={"g": i % 3}))
            client.upsert(NAME, points=points)

    def live(self, name, keep=lambda pid: True, exclude=()):
        store = self.text if name == "text" else self.idf
        return [(pid, vec) for pid, vec in store.items() if keep(pid) and pid not in exclude]

    def weighted(self, name, vec):
        if name != "idf":
            return vec
        n = len(self.idf)
        out = []
        for term, value in zip(*vec):
            df = sum(term in v[0] for v in self.idf.values())
            out.append(value * float(np.float32(math.log((n - df + 0.5) / (df + 0.5) + 1))))
        return list(vec[0]), out

    def nearest(self, name, query, k, keep=lambda pid: True, exclude=()):
        q = self.weighted(name, query)
        return ranked([(pid, dot(q, v)) for pid, v in self.live(name, keep, exclude) if dot(q, v) != 0], k)


@pytest.fixture(scope="module")
def data(client):
    return Data(client)


def group_filter(g):
    return models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])


@pytest.mark.parametrize("g", [None, 1])
def test_recommend_strategies_on_sparse(client, data, g):
    rng = np.random.default_rng(3)
    extra_pos, extra_neg = random_sparse(rng), random_sparse(rng)
    pos_id, neg_id = 10, 21
    keep = (lambda pid: True) if g is None else (lambda pid: data.group[pid] == g)
    flt = None if g is None else group_filter(g)
    exclude = (pos_id, neg_id)

    # average_vector: 2·avg(positives) − avg(negatives), index-wise, then nearest.
    positives = [data.text[pos_id], extra_pos]
    negatives = [data.text[neg_id], extra_neg]
    avg_p, avg_n = {}, {}
    for vec in positives:
        for i, v in as_dict(vec).items():
            avg_p[i] = avg_p.get(i, 0) + v / len(positives)
    for vec in negatives:
        for i, v in as_dict(vec).items():
            avg_n[i] = avg_n.get(i, 0) + v / len(negatives)
    keys = sorted(set(avg_p) | set(avg_n))
    average = (keys, [2 * avg_p.get(i, 0) - avg_n.get(i, 0) for i in keys])
    hits = client.query_points(NAME, query=models.RecommendQuery(recommend=models.RecommendInput(
        positive=[pos_id, sv(extra_pos)], negative=[neg_id, sv(extra_neg)])), using="text", query_filter=flt, limit=8).points
    check(hits, data.nearest("text", average, 8, keep, exclude))

    for strategy in (models.RecommendStrategy.BEST_SCORE, models.RecommendStrategy.SUM_SCORES):
        hits = client.query_points(NAME, query=models.RecommendQuery(recommend=models.RecommendInput(
            positive=[pos_id, sv(extra_pos)], negative=[neg_id], strategy=strategy)), using="text", query_filter=flt, limit=10).points
        want = []
        for pid, vec in data.live("text", keep, exclude):
            p = [dot(e, vec) for e in positives]
            n = [dot(data.text[neg_id], vec)]
            if strategy == models.RecommendStrategy.SUM_SCORES:
                raw = (sum(p) - sum(n), sum(p) - sum(n))
            else:
                # Rank by the pre-sigmoid value (monotone), report the sigmoid.
                raw = (max(p), scaled_sigmoid(max(p))) if max(p) > max(n) else (-max(n) - 1e9, -scaled_sigmoid(max(n)))
            want.append((pid, raw))
        want = [(pid, s[1]) for pid, s in sorted(want, key=lambda h: (-h[1][0], h[0]))[:10]]
        check(hits, want)


def test_recommend_on_idf_sparse_weights_every_example(client, data):
    pos_id, neg_id = 11, 30
    hits = client.query_points(NAME, query=models.RecommendQuery(recommend=models.RecommendInput(
        positive=[pos_id], negative=[neg_id], strategy=models.RecommendStrategy.SUM_SCORES)), using="idf", limit=10).points
    p, n = data.weighted("idf", data.idf[pos_id]), data.weighted("idf", data.idf[neg_id])
    want = ranked([(pid, dot(p, v) - dot(n, v)) for pid, v in data.live("idf", exclude=(pos_id, neg_id))], 10)
    assert [h.id for h in hits] == [pid for pid, _ in want]
    assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-5)


def test_discover_and_context_on_sparse(client, data):
    rng = np.random.default_rng(8)
    target = random_sparse(rng)
    pairs = [(data.text[3], data.text[41]), (random_sparse(rng), data.text[77])]
    ctx = [models.ContextPair(positive=3, negative=41), models.ContextPair(positive=sv(pairs[1][0]), negative=77)]
    exclude = (3, 41, 77)

    hits = client.query_points(NAME, query=models.DiscoverQuery(discover=models.DiscoverInput(target=sv(target), context=ctx)),
                               using="text", limit=10).points
    want = []
    for pid, vec in data.live("text", exclude=exclude):
        rank = sum((dot(p, vec) > dot(n, vec)) - (dot(p, vec) < dot(n, vec)) for p, n in pairs)
        want.append((pid, (rank, dot(target, vec)), rank + scaled_sigmoid(dot(target, vec))))
    want.sort(key=lambda h: (-h[1][0], -h[1][1], h[0]))
    check(hits, [(pid, s) for pid, _, s in want[:10]])

    hits = client.query_points(NAME, query=models.ContextQuery(context=ctx), using="text", limit=10).points
    want = ranked([(pid, sum(sigmoid(min(dot(p, vec) - dot(n, vec) - 1.1920929e-07, 0)) for p, n in pairs))
                   for pid, vec in data.live("text", exclude=exclude)], 10)
    check(hits, want)


def mmr_reference(candidates, query, lam, limit):
    """Qdrant's maximal_marginal_relevance: IndexSet with swap_remove, last maximum wins."""
    if len(candidates) < 2:
        return candidates
    rel = [dot(query, vec) for _, _, vec in candidates]
    remaining = list(range(len(candidates)))
    first = remaining[0]
    for i in remaining:
        if rel[i] >= rel[first]:
            first = i
    selected = [first]

    def remove(i):
        at = remaining.index(i)
        remaining[at] = remaining[-1]
        remaining.pop()

    remove(first)
    while len(selected) < limit and remaining:
        best, best_score = None, None
        for i in remaining:
            sim = max(dot(candidates[i][2], candidates[j][2]) for j in selected)
            score = lam * rel[i] - (1 - lam) * sim
            if best is None or score >= best_score:
                best, best_score = i, score
        selected.append(best)
        remove(best)
    return [candidates[i] for i in selected]


def test_mmr_on_sparse(client, data):
    rng = np.random.default_rng(21)
    query = random_sparse(rng)
    hits = client.query_points(NAME, query=models.NearestQuery(nearest=sv(query), mmr=models.Mmr(diversity=0.5, candidates_limit=20)),
                               using="text", limit=6).points
    nearest = data.nearest("text", query, 20)
    want = mmr_reference([(pid, s, data.text[pid]) for pid, s in nearest], query, 0.5, 6)
    assert [(h.id, h.score) for h in hits] == [(pid, s) for pid, s, _ in want]
    # Relevance is MMR's: the result differs from the plain nearest order here.
    assert [h.id for h in hits] != [pid for pid, _ in nearest[:6]]


def test_legacy_search_with_named_sparse_vector(server, data):
    rng = np.random.default_rng(5)
    query = random_sparse(rng)
    body = {"vector": {"name": "text", "vector": {"indices": query[0], "values": query[1]}}, "limit": 7,
            "with_vector": ["text"], "with_payload": True}
    r = httpx.post(f"{server.url}/collections/{NAME}/points/search", json=body)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    want = data.nearest("text", query, 7)
    assert [(p["id"], p["score"]) for p in result] == want
    for p in result:
        assert p["payload"] == {"g": data.group[p["id"]]}
        assert p["vector"]["text"] == {"indices": sorted(data.text[p["id"]][0]),
                                       "values": [as_dict(data.text[p["id"]])[i] for i in sorted(data.text[p["id"]][0])]}
    # search/batch: a sparse search with a filter and an idf one.
    idf_body = {"vector": {"name": "idf", "vector": {"indices": query[0], "values": query[1]}}, "limit": 5}
    filtered = {**body, "filter": {"must": [{"key": "g", "match": {"value": 2}}]}, "with_vector": False, "with_payload": False}
    r = httpx.post(f"{server.url}/collections/{NAME}/points/search/batch", json={"searches": [filtered, idf_body]})
    assert r.status_code == 200, r.text
    first, second = r.json()["result"]
    assert [(p["id"], p["score"]) for p in first] == data.nearest("text", query, 7, lambda pid: data.group[pid] == 2)
    want = data.nearest("idf", query, 5)
    assert [p["id"] for p in second] == [pid for pid, _ in want]
    assert [p["score"] for p in second] == pytest.approx([s for _, s in want], rel=1e-5)
    # Legacy recommend with a named sparse vector (`using`).
    r = httpx.post(f"{server.url}/collections/{NAME}/points/recommend",
                   json={"positive": [12], "negative": [{"indices": query[0], "values": query[1]}], "strategy": "sum_scores",
                         "using": "text", "limit": 4})
    assert r.status_code == 200, r.text
    want = ranked([(pid, dot(data.text[12], v) - dot(query, v)) for pid, v in data.live("text", exclude=(12,))], 4)
    assert [(p["id"], p["score"]) for p in r.json()["result"]] == want
    # Bad input: a dense vector for a sparse name, an unknown name, a malformed sparse vector, average without positives.
    for bad in ({"vector": {"name": "text", "vector": [1.0, 0.0]}, "limit": 3},
                {"vector": {"name": "nope", "vector": {"indices": [1], "values": [1.0]}}, "limit": 3},
                {"vector": {"name": "text", "vector": {"indices": [1, 1], "values": [1.0, 2.0]}}, "limit": 3}):
        r = httpx.post(f"{server.url}/collections/{NAME}/points/search", json=bad)
        assert r.status_code == 400, (bad, r.text)
    r = httpx.post(f"{server.url}/collections/{NAME}/points/recommend", json={"negative": [12], "using": "text", "limit": 3})
    assert r.status_code == 400 and "Positive vectors should not be empty" in r.text


def test_legacy_sparse_rpcs(server, data):
    """Search, SearchBatch and Recommend over gRPC with a named sparse vector (the legacy
    `sparse_indices` beside `vector`, and the `Vector` oneof), as REST's legacy endpoints."""
    from qdrant_client import QdrantClient, grpc as g
    remote = QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, timeout=60)
    stub = remote.grpc_points
    rng = np.random.default_rng(5)
    query = random_sparse(rng)
    got = stub.Search(g.SearchPoints(collection_name=NAME, vector=query[1], sparse_indices=g.SparseIndices(data=query[0]),
                                     vector_name="text", limit=7, with_vectors=g.WithVectorsSelector(
                                         include=g.VectorsSelector(names=["text"])))).result
    assert [(p.id.num, p.score) for p in got] == data.nearest("text", query, 7)
    for p in got:
        vector = p.vectors.vectors.vectors["text"].sparse
        assert list(vector.indices) == sorted(data.text[p.id.num][0])
    filtered = g.Filter(must=[g.Condition(field=g.FieldCondition(key="g", match=g.Match(integer=2)))])
    batch = stub.SearchBatch(g.SearchBatchPoints(collection_name=NAME, search_points=[
        g.SearchPoints(collection_name=NAME, vector=query[1], sparse_indices=g.SparseIndices(data=query[0]),
                       vector_name="text", limit=7, filter=filtered),
        g.SearchPoints(collection_name=NAME, vector=query[1], sparse_indices=g.SparseIndices(data=query[0]),
                       vector_name="idf", limit=5)])).result
    assert [(p.id.num, p.score) for p in batch[0].result] == data.nearest("text", query, 7, lambda pid: data.group[pid] == 2)
    want = data.nearest("idf", query, 5)
    assert [p.id.num for p in batch[1].result] == [pid for pid, _ in want]
    assert [p.score for p in batch[1].result] == pytest.approx([s for _, s in want], rel=1e-5)
    negative = g.Vector(sparse=g.SparseVector(indices=query[0], values=query[1]))
    got = stub.Recommend(g.RecommendPoints(collection_name=NAME, positive=[g.PointId(num=12)], negative_vectors=[negative],
                                           strategy=g.RecommendStrategy.SumScores, using="text", limit=4)).result
    want = ranked([(pid, dot(data.text[12], v) - dot(query, v)) for pid, v in data.live("text", exclude=(12,))], 4)
    assert [(p.id.num, p.score) for p in got] == want
    duplicate = g.SearchPoints(collection_name=NAME, vector=[1.0, 2.0], sparse_indices=g.SparseIndices(data=[1, 1]),
                               vector_name="text", limit=3)
    expect_status(lambda: stub.Search(duplicate), 400)
    message = expect_status(lambda: stub.Recommend(g.RecommendPoints(collection_name=NAME, negative=[g.PointId(num=12)],
                                                                     using="text", limit=3)), 400)
    assert "Positive vectors should not be empty" in message
    remote.close()


def test_sparse_update_and_delete_vectors_end_to_end(server, client):
    name = "sparse-query-updates"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config={},
                             sparse_vectors_config={"text": models.SparseVectorParams()},
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
    docs = {1: ([1, 2], [1.0, 0.5]), 2: ([2, 3], [2.0, 1.0]), 3: ([3], [4.0]), 4: ([1, 5], [0.25, 3.0])}
    client.upsert(name, points=[models.PointStruct(id=pid, vector={"text": sv(v)}) for pid, v in docs.items()])
    query = models.SparseVector(indices=[2, 3], values=[1.0, 1.0])

    def search():
        return [(h.id, h.score) for h in client.query_points(name, query=query, using="text", limit=10).points]

    assert search() == [(3, 4.0), (2, 3.0), (1, 0.5)]
    # Replace point 4's vector: it now matches; point 3's vector removed: it no longer does.
    client.update_vectors(name, points=[models.PointVectors(id=4, vector={"text": sv(([3, 7], [8.0, 1.0]))})])
    client.delete_vectors(name, vectors=["text"], points=[3])
    assert search() == [(4, 8.0), (2, 3.0), (1, 0.5)]
    record = client.retrieve(name, ids=[3, 4], with_vectors=True)
    by_id = {r.id: r for r in record}
    assert "text" not in (by_id[3].vector or {})
    assert by_id[4].vector["text"] == models.SparseVector(indices=[3, 7], values=[8.0, 1.0])
    # The custom objectives see the change too.
    hits = client.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(
        positive=[4], strategy=models.RecommendStrategy.SUM_SCORES)), using="text", limit=10).points
    assert [(h.id, h.score) for h in hits] == [(2, 8.0), (1, 0.0)]
    # Point 3 no longer has the vector: using it as an example is an error; nothing changed.
    message = expect_status(lambda: client.query_points(name, query=models.RecommendQuery(
        recommend=models.RecommendInput(positive=[3])), using="text"), 404)
    assert message == 'Not found: Vector with name "text" for point 3 not found'
    assert search() == [(4, 8.0), (2, 3.0), (1, 0.5)]
    # Legacy search sees the same.
    r = httpx.post(f"{server.url}/collections/{name}/points/search",
                   json={"vector": {"name": "text", "vector": {"indices": [2, 3], "values": [1.0, 1.0]}}, "limit": 10})
    assert [(p["id"], p["score"]) for p in r.json()["result"]] == [(4, 8.0), (2, 3.0), (1, 0.5)]
