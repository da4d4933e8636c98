"""Sparse vectors and server-side BM25 through qdrant-client: collection config,
upsert (list and batch), retrieve/scroll with vectors, query with filter,
prefetch + RRF fusion, the idf modifier, Document objects (qdrant/bm25), and 400s
for bad input. Expectations are computed here in Python/numpy."""
import math
import re
import struct

import httpx
import numpy as np
import pytest
from qdrant_client import models

from conftest import connect
from helpers import expect_status

N = 150
VOCAB = 60


def random_sparse(rng, max_nnz=12):
    nnz = int(rng.integers(1, max_nnz + 1))
    terms = sorted(set(int(min(rng.integers(0, VOCAB), rng.integers(0, VOCAB))) for _ in range(nnz)))
    # Multiples of 0.25: sums are exact in float32 and float64, so ties are exact.
    values = [float(rng.integers(1, 9)) / 4 for _ in terms]
    order = rng.permutation(len(terms))  # sent unsorted, as clients may
    return [terms[i] for i in order], [values[i] for i in order]


def dot(a, b):
    da = dict(zip(a[0], a[1]))
    return sum(v * da[i] for i, v in zip(b[0], b[1]) if i in da)


def shares(a, b):
    return bool(set(a[0]) & set(b[0]))


def top(candidates, k):
    """(id, score) best first, ties by id; points scoring 0 are left out (Qdrant's rule)."""
    hits = [(pid, s) for pid, s in candidates if s != 0]
    hits.sort(key=lambda h: (-h[1], h[0]))
    return hits[:k]


class Data:
    def __init__(self, client, name, seed=5):
        rng = np.random.default_rng(seed)
        self.dense = rng.normal(size=(N, 4)).astype(np.float32)
        self.text = {}
        self.payloads = {}
        client.create_collection(
            name,
            vectors_config={"dense": models.VectorParams(size=4, distance=models.Distance.DOT)},
            sparse_vectors_config={"text": models.SparseVectorParams(),
                                   "idf": models.SparseVectorParams(modifier=models.Modifier.IDF)},
            # A tiny threshold: batches are sealed and written as immutable segments.
            optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
        points = []
        for i in range(N // 2):
            vec = {"dense": self.dense[i].tolist()}
            if i % 7 != 0:
                self.text[i] = random_sparse(rng)
                vec["text"] = models.SparseVector(indices=self.text[i][0], values=self.text[i][1])
            self.payloads[i] = {"g": i % 3}
            points.append(models.PointStruct(id=i, vector=vec, payload=self.payloads[i]))
        client.upsert(name, points=points)
        # The batch (columnar) form for the rest.
        ids = list(range(N // 2, N))
        for i in ids:
            self.text[i] = random_sparse(rng)
            self.payloads[i] = {"g": i % 3}
        client.upsert(name, points=models.Batch(
            ids=ids, vectors={"dense": [self.dense[i].tolist() for i in ids],
                              "text": [models.SparseVector(indices=self.text[i][0], values=self.text[i][1]) for i in ids]},
            payloads=[self.payloads[i] for i in ids]))

    def expected(self, query, k, keep=lambda pid: True):
        return top([(pid, dot(query, vec)) for pid, vec in self.text.items() if keep(pid) and shares(query, vec)], k)


@pytest.fixture(scope="module")
def data(client):
    name = "sparse"
    if client.collection_exists(name):
        client.delete_collection(name)
    return Data(client, name)


def sorted_sparse(vec):
    order = np.argsort(vec[0])
    return [vec[0][i] for i in order], [vec[1][i] for i in order]


def test_collection_info_shows_sparse_config(client, data):
    info = client.get_collection("sparse")
    sparse = info.config.params.sparse_vectors
    assert set(sparse) == {"text", "idf"}
    assert sparse["idf"].modifier == models.Modifier.IDF
    assert sparse["text"].modifier in (None, models.Modifier.NONE)
    assert info.points_count == N


def test_retrieve_and_scroll_return_sorted_sparse_vectors(client, data):
    records = client.retrieve("sparse", ids=[1, 7, 100], with_vectors=True)
    by_id = {r.id: r for r in records}
    for pid in (1, 100):
        got = by_id[pid].vector["text"]
        want = sorted_sparse(data.text[pid])
        assert got.indices == want[0] and got.values == want[1]
        assert by_id[pid].vector["dense"] == pytest.approx(data.dense[pid].tolist())
    assert "text" not in by_id[7].vector  # point 7 has no sparse vector
    page = client.scroll("sparse", limit=5, with_vectors=["text"])[0]
    assert [p.id for p in page] == [0, 1, 2, 3, 4]
    assert page[1].vector["text"].indices == sorted_sparse(data.text[1])[0]


@pytest.mark.parametrize("seed", range(6))
def test_sparse_query_is_exact(client, data, seed):
    rng = np.random.default_rng(100 + seed)
    query = random_sparse(rng, max_nnz=6)
    for k in (1, 10, 40):
        hits = client.query_points("sparse", query=models.SparseVector(indices=query[0], values=query[1]),
                                   using="text", limit=k).points
        assert [(h.id, h.score) for h in hits] == data.expected(query, k)
        # The nearest-object form and a filter.
        g = seed % 3
        hits = client.query_points("sparse", query=models.NearestQuery(nearest=models.SparseVector(indices=query[0], values=query[1])),
                                   using="text", limit=k, query_filter=models.Filter(must=[
                                       models.FieldCondition(key="g", match=models.MatchValue(value=g))])).points
        assert [(h.id, h.score) for h in hits] == data.expected(query, k, lambda pid: data.payloads[pid]["g"] == g)


def test_hybrid_prefetch_with_rrf(client, data):
    rng = np.random.default_rng(9)
    query = random_sparse(rng, max_nnz=6)
    dense_q = rng.normal(size=4).astype(np.float32)
    hits = client.query_points("sparse", prefetch=[
        models.Prefetch(query=dense_q.tolist(), using="dense", limit=20),
        models.Prefetch(query=models.SparseVector(indices=query[0], values=query[1]), using="text", limit=20),
    ], query=models.FusionQuery(fusion=models.Fusion.RRF), limit=10).points
    dense_scores = data.dense.astype(np.float64) @ dense_q.astype(np.float64)
    dense_rank = sorted(range(N), key=lambda i: (-dense_scores[i], i))[:20]
    sparse_rank = [pid for pid, _ in data.expected(query, 20)]
    fused = {}
    for ranking in (dense_rank, sparse_rank):
        for r, pid in enumerate(ranking):
            fused[pid] = fused.get(pid, 0) + 1 / (2 + r)
    want = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [h.id for h in hits] == [pid for pid, _ in want]
    assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-6)
    # A sparse stage rescoring dense candidates.
    hits = client.query_points("sparse", prefetch=models.Prefetch(query=dense_q.tolist(), using="dense", limit=30),
                               query=models.SparseVector(indices=query[0], values=query[1]), using="text", limit=5).points
    want = top([(pid, dot(query, data.text[pid])) for pid in dense_rank[:20] + sorted(range(N), key=lambda i: (-dense_scores[i], i))[20:30]
                if pid in data.text and shares(query, data.text[pid])], 5)
    assert [(h.id, h.score) for h in hits] == want


def test_idf_modifier(client):
    name = "sparse-idf"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config={},
                             sparse_vectors_config={"s": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    docs = {1: ([1, 2], [1.0, 1.0]), 2: ([1], [1.0]), 3: ([1, 3], [2.0, 1.0]), 4: ([3], [0.5]), 5: ([4], [1.0])}
    client.upsert(name, points=[models.PointStruct(id=pid, vector={"s": models.SparseVector(indices=i, values=v)})
                                for pid, (i, v) in docs.items()])
    n = len(docs)

    def idf(term):
        df = sum(term in v[0] for v in docs.values())
        return np.float32(math.log(np.float32((n - df + 0.5) / (df + 0.5)) + 1))

    query = ([1, 3], [1.0, 2.0])
    hits = client.query_points(name, query=models.SparseVector(indices=query[0], values=query[1]), using="s").points
    weighted = (query[0], [q * float(idf(t)) for t, q in zip(*query)])
    want = top([(pid, dot(weighted, v)) for pid, v in docs.items() if shares(query, v)], 10)
    assert [h.id for h in hits] == [pid for pid, _ in want]
    assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-5)


def test_idf_corpus_narrows_the_statistics(client):
    """`params.idf`: {"corpus": filter} computes N and each term's document frequency over
    the points matching the corpus only (one tenant), independently of the retrieval
    filter; "global" is the collection as without it; on a vector without the idf
    modifier it is refused, never ignored."""
    name = "sparse-idf-corpus"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config={},
                             sparse_vectors_config={"s": models.SparseVectorParams(modifier=models.Modifier.IDF),
                                                    "plain": models.SparseVectorParams()})
    rng = np.random.default_rng(5)
    docs, tenant = {}, {}
    for pid in range(1, 81):
        docs[pid] = random_sparse(rng, max_nnz=6)
        tenant[pid] = "a" if pid % 3 else "b"
    client.upsert(name, points=[
        models.PointStruct(id=pid, vector={"s": models.SparseVector(indices=i, values=v),
                                           "plain": models.SparseVector(indices=i, values=v)},
                           payload={"tenant": tenant[pid]}) for pid, (i, v) in docs.items()])

    def idf(term, corpus):
        n = len(corpus)
        df = sum(term in docs[p][0] for p in corpus)
        return np.float32(math.log(np.float32((n - df + 0.5) / (df + 0.5)) + 1))

    def tenant_filter(t):
        return models.Filter(must=[models.FieldCondition(key="tenant", match=models.MatchValue(value=t))])

    query = random_sparse(rng, max_nnz=5)
    for scope, corpus, retrieval in [
        (models.IdfCorpusParams(corpus=tenant_filter("b")), [p for p in docs if tenant[p] == "b"], None),
        (models.IdfCorpusParams(corpus=tenant_filter("b")), [p for p in docs if tenant[p] == "b"], "a"),
        (models.IdfScope.GLOBAL, list(docs), None),
    ]:
        hits = client.query_points(name, query=models.SparseVector(indices=query[0], values=query[1]), using="s",
                                   query_filter=tenant_filter(retrieval) if retrieval else None,
                                   search_params=models.SearchParams(idf=scope), limit=8).points
        weighted = (query[0], [q * float(idf(t, corpus)) for t, q in zip(*query)])
        want = top([(pid, dot(weighted, v)) for pid, v in docs.items()
                    if shares(query, v) and (retrieval is None or tenant[pid] == retrieval)], 8)
        assert [h.id for h in hits] == [pid for pid, _ in want]
        assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-5)
    with pytest.raises(Exception, match="idf"):
        client.query_points(name, query=models.SparseVector(indices=query[0], values=query[1]), using="plain",
                            search_params=models.SearchParams(idf=models.IdfScope.GLOBAL))
    client.delete_collection(name)


# ---- BM25: a Python model of docs/bm25.md (murmur3 token ids, BM25 weights).

def murmur3(data: bytes, seed=0):
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed
    n = len(data) // 4
    for i in range(n):
        k = struct.unpack_from("<I", data, 4 * i)[0]
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    tail = data[4 * n:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    signed = h - (1 << 32) if h >= 1 << 31 else h
    return abs(signed)


def tokens(text):
    return [t.lower() for t in re.findall(r"[^\W_]+", text)]


def bm25_document(text, k1=1.2, b=0.75, avg_len=256.0):
    toks = tokens(text)
    counts = {}
    for t in toks:
        counts[t] = counts.get(t, 0) + 1
    out = {}
    for t in sorted(counts):
        tf = counts[t]
        out[murmur3(t.encode())] = float(np.float32(tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(toks) / avg_len))))
    ids = sorted(out)
    return ids, [out[i] for i in ids]


PLAIN = {"stemmer": {"type": "none"}, "stopwords": {"custom": []}}

TEXTS = {
    1: "Recipe for baking chocolate chip cookies",
    2: "Chocolate cake: a recipe with dark chocolate",
    3: "How to bake bread at home",
    4: "Cookies and milk",
    5: "A history of the bicycle",
}


def test_bm25_documents_server_side(server):
    client = connect(server, cloud_inference=True)
    try:
        name = "bm25"
        if client.collection_exists(name):
            client.delete_collection(name)
        client.create_collection(name, vectors_config={},
                                 sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
        # The model above has no stopwords and no stemming: ask for that (Qdrant's defaults have both).
        client.upsert(name, points=[models.PointStruct(id=pid, vector={"bm25": models.Document(text=t, model="Qdrant/bm25",
                                                                                               options=PLAIN)})
                                    for pid, t in TEXTS.items()])
        for pid, text in TEXTS.items():
            got = client.retrieve(name, ids=[pid], with_vectors=True)[0].vector["bm25"]
            want = bm25_document(text)
            assert got.indices == want[0]
            assert got.values == pytest.approx(want[1], rel=1e-6)
        query = "chocolate cookies recipe"
        hits = client.query_points(name, query=models.Document(text=query, model="Qdrant/bm25", options=PLAIN),
                                   using="bm25").points
        docs = {pid: bm25_document(t) for pid, t in TEXTS.items()}
        qids = sorted(set(murmur3(t.encode()) for t in tokens(query)))
        n = len(docs)
        weights = []
        for t in qids:
            df = sum(t in d[0] for d in docs.values())
            weights.append(float(np.float32(math.log(np.float32((n - df + 0.5) / (df + 0.5)) + 1))))
        want = top([(pid, dot((qids, weights), d)) for pid, d in docs.items() if shares((qids, weights), d)], 10)
        assert [h.id for h in hits] == [pid for pid, _ in want]
        assert set(h.id for h in hits) == {1, 2, 4}
        assert [h.score for h in hits] == pytest.approx([s for _, s in want], rel=1e-5)
    finally:
        client.close()


@pytest.mark.rest_only
def test_bad_sparse_input_is_400(server, data):
    url = f"{server.url}/collections/sparse/points"
    bad = [
        {"indices": [1, 2], "values": [1.0]},        # length mismatch
        {"indices": [3, 3], "values": [1.0, 2.0]},   # duplicate index
        {"indices": [1], "values": [None]},          # NaN (JSON clients send null)
    ]
    for vector in bad:
        r = httpx.put(url, json={"points": [{"id": 999, "vector": {"text": vector}}]})
        assert r.status_code == 400, (vector, r.text)
        r = httpx.post(f"{url}/query", json={"query": vector, "using": "text"})
        assert r.status_code == 400, (vector, r.text)
    r = httpx.put(url, json={"points": [{"id": 999, "vector": {"nope": {"indices": [1], "values": [1.0]}}}]})
    assert r.status_code == 400 and "nope" in r.text
    r = httpx.post(f"{url}/query", json={"query": {"indices": [1], "values": [1.0]}, "using": "nope"})
    assert r.status_code == 400
    r = httpx.post(f"{url}/query", json={"query": {"indices": [1], "values": [1.0]}, "using": "dense"})
    assert r.status_code == 400
    r = httpx.put(url, json={"points": [{"id": 999, "vector": {"text": {"text": "x", "model": "other/model"}}}]})
    assert r.status_code == 400
    assert httpx.post(f"{url}/count", json={}).json()["result"]["count"] == N


def test_bad_sparse_input_through_the_client(client, data):
    def upsert(vector):
        return lambda: client.upsert("sparse", points=[models.PointStruct(id=999, vector=vector)])

    for indices, values in [([1, 2], [1.0]), ([3, 3], [1.0, 2.0]), ([1], [float("nan")])]:
        expect_status(upsert({"text": models.SparseVector(indices=indices, values=values)}), 400)
    assert "nope" in expect_status(upsert({"nope": models.SparseVector(indices=[1], values=[1.0])}), 400)
    expect_status(lambda: client.query_points("sparse", query=models.SparseVector(indices=[1], values=[1.0]),
                                              using="dense"), 400)
    assert client.count("sparse").count == N


def bm25_weights(toks, k1=1.2, b=0.75, avg_len=256.0):
    counts = {}
    for t in toks:
        counts[t] = counts.get(t, 0) + 1
    out = {murmur3(t.encode()): float(np.float32(n * (k1 + 1) / (n + k1 * (1 - b + b * len(toks) / avg_len))))
           for t, n in counts.items()}
    ids = sorted(out)
    return ids, [out[i] for i in ids]


# Qdrant's defaults (language english: its stopwords and the Snowball English
# stemmer) and the text options, tokens worked out by hand.
BM25_OPTION_CASES = [
    (None, "The runners were running to the Café", ["runner", "run", "café"]),
    ({"ascii_folding": True}, "The runners were running to the Café", ["runner", "run", "cafe"]),
    ({"language": "none"}, "The runners", ["the", "runners"]),
    ({"stemmer": {"type": "none"}, "stopwords": {"custom": ["runners"]}}, "The runners ran", ["the", "ran"]),
    ({"stopwords": {"languages": ["english"], "custom": ["RAN"]}, "stemmer": {"type": "none"}}, "The runners ran",
     ["runners"]),
    ({"tokenizer": "whitespace", "lowercase": False, "stemmer": {"type": "none"}}, "The Fox_jumps!", ["The", "Fox_jumps!"]),
    ({"min_token_len": 4, "stopwords": {"custom": []}}, "kittens and puppies ran", ["kitten", "puppi"]),
    ({"tokenizer": "prefix", "min_token_len": 2, "max_token_len": 4, "stemmer": {"type": "none"}, "stopwords": {"custom": []}},
     "Hello me", ["he", "hel", "hell", "me"]),
]


@pytest.mark.parametrize("options, text, toks", BM25_OPTION_CASES)
def test_bm25_document_options(server, options, text, toks):
    client = connect(server, cloud_inference=True)
    try:
        name = "bm25_options"
        if client.collection_exists(name):
            client.delete_collection(name)
        client.create_collection(name, vectors_config={}, sparse_vectors_config={"bm25": models.SparseVectorParams()})
        client.upsert(name, points=[models.PointStruct(
            id=1, vector={"bm25": models.Document(text=text, model="qdrant/bm25", options=options)})])
        got = client.retrieve(name, ids=[1], with_vectors=True)[0].vector["bm25"]
        want = bm25_weights(toks)
        assert got.indices == want[0]
        assert got.values == pytest.approx(want[1], rel=1e-6)
    finally:
        client.close()


@pytest.mark.parametrize("options, words", [
    ({"language": "french"}, "french"), ({"stemmer": {"type": "snowball", "language": "german"}}, "german"),
    ({"stopwords": "spanish", "stemmer": {"type": "none"}}, "spanish"), ({"tokenizer": "multilingual"}, "tokenizer"),
])
def test_bm25_unsupported_options_are_400(server, options, words):
    client = connect(server, cloud_inference=True)
    try:
        if not client.collection_exists("bm25_refusals"):
            client.create_collection("bm25_refusals", vectors_config={},
                                     sparse_vectors_config={"bm25": models.SparseVectorParams()})
        message = expect_status(lambda: client.upsert("bm25_refusals", points=[models.PointStruct(
            id=2, vector={"bm25": models.Document(text="x", model="qdrant/bm25", options=options)})]), 400)
        assert words in message, message
        assert client.count("bm25_refusals").count == 0
    finally:
        client.close()
