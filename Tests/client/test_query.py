"""The universal query API through qdrant-client: prefetch, fusion, recommend,
discover, context, order_by, sample, mmr, lookup_from, groups; every expectation
is computed independently here in numpy (float64) from Qdrant's definitions
(docs/query.md)."""
import httpx
import numpy as np
import pytest
from qdrant_client import models

from helpers import expect_status

DIM = 8
N = 200
VECTORS = {"dot": "Dot", "euc": "Euclid", "cos": "Cosine"}
EXACT = models.SearchParams(exact=True)


class Data:
    def __init__(self, client, name, seed=7):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.vectors = {k: rng.normal(size=(N, DIM)).astype(np.float32) for k in VECTORS}
        self.payloads = []
        for i in range(N):
            payload = {"i": i, "n": int(rng.integers(0, 1000))}
            if i % 9 != 0:
                payload["g"] = f"g{i % 6}"
            if i % 4 == 0:
                payload["tags"] = [i % 3, f"t{i % 5}"]
            self.payloads.append(payload)
        client.create_collection(name, vectors_config={
            k: models.VectorParams(size=DIM, distance=models.Distance(d)) for k, d in VECTORS.items()})
        client.upsert(name, points=[models.PointStruct(
            id=i, vector={k: self.vectors[k][i].tolist() for k in VECTORS}, payload=self.payloads[i]) for i in range(N)])
        client.create_payload_index(name, "n", models.PayloadSchemaType.INTEGER)

    def stored(self, using):
        v = self.vectors[using].astype(np.float64)
        if VECTORS[using] == "Cosine":
            v = v / np.linalg.norm(v, axis=1, keepdims=True)
        return v

    def prepare(self, using, q):
        q = np.asarray(q, dtype=np.float64)
        return q / np.linalg.norm(q) if VECTORS[using] == "Cosine" else q

    def similarity(self, using, q):
        """Qdrant's raw similarity of every point to q (dot; -squared L2)."""
        v, q = self.stored(using), self.prepare(using, q)
        return -((v - q) ** 2).sum(axis=1) if VECTORS[using] == "Euclid" else v @ q

    def nearest(self, using, q):
        """(ids, scores) of every point by the reported nearest score, best first, ties by id."""
        s = self.similarity(using, q)
        if VECTORS[using] == "Euclid":
            s = np.sqrt(-s)
            order = np.lexsort((np.arange(N), s))
        else:
            order = np.lexsort((np.arange(N), -s))
        return [(int(i), float(s[i])) for i in order]


def ranked(scores: dict):
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def check(hits, want, tol=1e-4):
    """Same scores in order (to tol), same ids wherever the reference has no near-tie."""
    assert len(hits) == len(want), ([h.id for h in hits], want)
    for rank, (hit, (wid, wscore)) in enumerate(zip(hits, want)):
        assert abs(hit.score - wscore) <= tol * max(1.0, abs(wscore)), (rank, hit.id, hit.score, wid, wscore)
        tied = any(abs(s - wscore) <= tol * max(1.0, abs(wscore)) for j, (_, s) in enumerate(want) if j != rank)
        if not tied:
            assert hit.id == wid, (rank, hit.id, wid)


def rrf(lists, k=2, weights=None):
    scores = {}
    for index, ranking in enumerate(lists):
        w = 1.0 if weights is None else weights[index]
        for rank, (pid, _) in enumerate(ranking):
            if w > 0:
                scores[pid] = scores.get(pid, 0.0) + 1.0 / ((rank + 1) / w + k - 1)
    return ranked(scores)


def dbsf(lists):
    scores = {}
    for ranking in lists:
        s = np.array([x for _, x in ranking])
        mean, sigma = s.mean(), s.std(ddof=1)
        for pid, x in ranking:
            scores[pid] = scores.get(pid, 0.0) + (x - (mean - 3 * sigma)) / (6 * sigma)
    return ranked(scores)


@pytest.fixture()
def data(client, name):
    return Data(client, name)


def test_prefetch_rrf_weights_and_dbsf(client, name, data):
    q1, q2 = data.rng.normal(size=(2, DIM))
    a = data.nearest("dot", q1)[:30]
    b = data.nearest("euc", q2)[:25]
    prefetch = [models.Prefetch(query=q1.tolist(), using="dot", limit=30, params=EXACT),
                models.Prefetch(query=q2.tolist(), using="euc", limit=25, params=EXACT)]
    hits = client.query_points(name, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.RRF), limit=12).points
    check(hits, rrf([a, b])[:12], tol=1e-6)
    # Qdrant's default k is 2 and ranks count from 0: a point first in both lists scores 1/2 + 1/2.
    assert rrf([a, b])[0][1] <= 1.0
    weighted = client.query_points(name, prefetch=prefetch, query=models.RrfQuery(rrf=models.Rrf(k=60, weights=[2.0, 0.5])),
                                   limit=20).points
    check(weighted, rrf([a, b], k=60, weights=[2.0, 0.5])[:20], tol=1e-6)
    fused = client.query_points(name, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.DBSF), limit=10,
                                offset=3, with_payload=True).points
    check(fused, dbsf([a, b])[3:13], tol=1e-3)
    assert [h.payload["i"] for h in fused] == [h.id for h in fused]
    # score_threshold on a fusion keeps scores >= it.
    cut = rrf([a, b])[4][1]
    kept = client.query_points(name, prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.RRF),
                               score_threshold=cut - 1e-7, limit=50).points
    assert len(kept) >= 5 and all(h.score >= cut - 1e-6 for h in kept)


def test_nested_prefetch_rescores_only_prefetched_points(client, name, data):
    q1, q2, q3 = data.rng.normal(size=(3, DIM))
    root_filter = models.Filter(must_not=[models.FieldCondition(key="g", match=models.MatchValue(value="g1"))])
    inner_filter = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(lt=700))])
    allowed = {i for i in range(N) if data.payloads[i].get("g") != "g1" and data.payloads[i]["n"] < 700}
    leaf = [x for x in data.nearest("dot", q1) if x[0] in allowed][:50]
    leaf_ids = {i for i, _ in leaf}
    middle_all = [x for x in data.nearest("euc", q2) if x[0] in leaf_ids]
    threshold = middle_all[10][1]
    middle = [x for x in middle_all if x[1] <= threshold][:20]
    middle_ids = {i for i, _ in middle}
    root = [x for x in data.nearest("cos", q3) if x[0] in middle_ids]
    hits = client.query_points(
        name,
        prefetch=models.Prefetch(
            prefetch=[models.Prefetch(query=q1.tolist(), using="dot", filter=inner_filter, limit=50, params=EXACT)],
            query=q2.tolist(), using="euc", score_threshold=threshold + 1e-5, limit=20),
        query=q3.tolist(), using="cos", query_filter=root_filter, limit=8, with_vectors=["cos"], with_payload=False).points
    check(hits, root[:8])
    assert all(set(h.vector) == {"cos"} and h.payload is None for h in hits)


def test_shape_errors_are_400(client, name, data):
    q = data.rng.normal(size=DIM).tolist()
    fusion = models.FusionQuery(fusion=models.Fusion.RRF)
    expect_status(lambda: client.query_points(name, query=fusion), 400)
    expect_status(lambda: client.query_points(name, prefetch=models.Prefetch(
        prefetch=models.Prefetch(query=q, using="dot")), query=fusion), 400)
    expect_status(lambda: client.query_points(name, prefetch=[models.Prefetch(query=q, using="dot")],
                                              query=models.RrfQuery(rrf=models.Rrf(weights=[1.0, 2.0]))), 400)
    expect_status(lambda: client.query_points(name, prefetch=[models.Prefetch(query=q, using="dot")], query=fusion,
                                              using="dot"), 400)
    expect_status(lambda: client.query_points(name, query=q, using="nope"), 400)
    expect_status(lambda: client.query_points(name, query=models.OrderByQuery(order_by="n"), score_threshold=0.5), 400)
    expect_status(lambda: client.query_points(name, query=models.RecommendQuery(
        recommend=models.RecommendInput(negative=[1])), using="dot"), 400)
    expect_status(lambda: client.query_points(name, query=models.RecommendQuery(
        recommend=models.RecommendInput(positive=[100000])), using="dot"), 404)
    # Nothing broke: the collection answers.
    assert len(client.query_points(name, query=q, using="dot", limit=3).points) == 3


@pytest.mark.parametrize("using", ["dot", "euc", "cos"])
def test_recommend_strategies(client, name, data, using):
    extra = data.rng.normal(size=DIM)
    pos_ids, neg_ids = [3, 50], [8]
    stored = data.stored(using)
    examples = set(pos_ids + neg_ids)
    positives = [stored[i] for i in pos_ids] + [data.prepare(using, extra)]
    negatives = [stored[i] for i in neg_ids]
    recommend = lambda strategy: models.RecommendQuery(recommend=models.RecommendInput(
        positive=pos_ids + [extra.tolist()], negative=neg_ids, strategy=strategy))
    # average_vector: nearest to 2*avg(pos) - avg(neg), the given vector averaged raw.
    raw_pos = [stored[i] for i in pos_ids] + [extra]
    avg = 2 * np.mean(raw_pos, axis=0) - np.mean(negatives, axis=0)
    want = [x for x in data.nearest(using, avg) if x[0] not in examples]
    hits = client.query_points(name, query=recommend(None), using=using, limit=10, search_params=EXACT).points
    check(hits, want[:10], tol=1e-3)
    v = stored
    sim = lambda x: (-((v - x) ** 2).sum(axis=1)) if VECTORS[using] == "Euclid" else v @ x
    sig = lambda x: x / (1 + np.abs(x))
    scaled = lambda x: 0.5 * (sig(x) + 1)
    pos_sims = np.stack([sim(x) for x in positives])
    neg_sims = np.stack([sim(x) for x in negatives])
    best = np.where(pos_sims.max(axis=0) > neg_sims.max(axis=0), scaled(pos_sims.max(axis=0)), -scaled(neg_sims.max(axis=0)))
    want_best = ranked({i: float(best[i]) for i in range(N) if i not in examples})
    check(client.query_points(name, query=recommend(models.RecommendStrategy.BEST_SCORE), using=using, limit=10).points,
          want_best[:10])
    total = pos_sims.sum(axis=0) - neg_sims.sum(axis=0)
    want_sum = ranked({i: float(total[i]) for i in range(N) if i not in examples})
    check(client.query_points(name, query=recommend(models.RecommendStrategy.SUM_SCORES), using=using, limit=10,
                              score_threshold=(want_sum[5][1] + want_sum[6][1]) / 2).points, want_sum[:6])


@pytest.mark.parametrize("using", ["dot", "euc"])
def test_discover_and_context(client, name, data, using):
    v = data.stored(using)
    sim = lambda x: (-((v - x) ** 2).sum(axis=1)) if VECTORS[using] == "Euclid" else v @ x
    sig = lambda x: x / (1 + np.abs(x))
    pairs = [(10, 20), (30, 40)]
    rank = sum(np.sign(sim(v[p]) - sim(v[n])) for p, n in pairs)
    score = rank + 0.5 * (sig(sim(v[5])) + 1)
    excluded = {5, 10, 20, 30, 40}
    want = ranked({i: float(score[i]) for i in range(N) if i not in excluded})
    context = [models.ContextPair(positive=p, negative=n) for p, n in pairs]
    hits = client.query_points(name, query=models.DiscoverQuery(discover=models.DiscoverInput(target=5, context=context)),
                               using=using, limit=12).points
    check(hits, want[:12])
    loss = sum(sig(np.minimum(sim(v[p]) - sim(v[n]) - np.finfo(np.float32).eps, 0)) for p, n in pairs)
    want_context = ranked({i: float(loss[i]) for i in range(N) if i not in {10, 20, 30, 40}})
    got = client.query_points(name, query=models.ContextQuery(context=context), using=using, limit=25).points
    # Points inside the best zone all score 0: compare the scores, and that the examples are left out.
    np.testing.assert_allclose([h.score for h in got], [s for _, s in want_context[:25]], atol=1e-5)
    assert not {h.id for h in got} & {10, 20, 30, 40}


def test_order_by_sample_and_ids_in_order(client, name, data):
    desc = client.query_points(name, query=models.OrderByQuery(order_by=models.OrderBy(key="n", direction=models.Direction.DESC)),
                               limit=10).points
    want = sorted(range(N), key=lambda i: (-data.payloads[i]["n"], i))[:10]
    assert [h.id for h in desc] == want
    assert [h.order_value for h in desc] == [data.payloads[i]["n"] for i in want]
    q = data.rng.normal(size=DIM)
    top = [i for i, _ in data.nearest("dot", q)[:20]]
    asc = client.query_points(name, prefetch=models.Prefetch(query=q.tolist(), using="dot", limit=20, params=EXACT),
                              query=models.OrderByQuery(order_by="n"), limit=5).points
    assert [h.id for h in asc] == sorted(top, key=lambda i: (data.payloads[i]["n"], i))[:5]
    flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value="g2"))])
    sample = client.query_points(name, query=models.SampleQuery(sample=models.Sample.RANDOM), query_filter=flt, limit=15).points
    assert len({h.id for h in sample}) == 15 and all(data.payloads[h.id].get("g") == "g2" for h in sample)
    sampled = client.query_points(name, prefetch=models.Prefetch(query=q.tolist(), using="dot", limit=20, params=EXACT),
                                  query=models.SampleQuery(sample=models.Sample.RANDOM), limit=50).points
    assert {h.id for h in sampled} == set(top)
    listed = client.query_points(name, limit=3, offset=4).points
    assert [h.id for h in listed] == [4, 5, 6] and all(h.score == 1.0 for h in listed)


@pytest.mark.parametrize("using,diversity", [("dot", 0.5), ("euc", 0.8), ("cos", 0.3)])
def test_mmr(client, name, data, using, diversity):
    q = data.rng.normal(size=DIM)
    candidates = data.nearest(using, q)[:40]
    ids = [i for i, _ in candidates]
    vectors = data.stored(using)[ids]
    prepared = data.prepare(using, q)
    euclid = VECTORS[using] == "Euclid"
    sim = (lambda x, y: -((x - y) ** 2).sum(axis=-1)) if euclid else (lambda x, y: (x * y).sum(axis=-1))
    relevance = sim(vectors, prepared)
    lam = 1 - diversity
    selected = [int(np.argmax(relevance))]
    while len(selected) < 8:
        best, best_score = None, -np.inf
        for c in range(len(ids)):
            if c in selected:
                continue
            score = lam * relevance[c] - (1 - lam) * max(sim(vectors[c], vectors[s]) for s in selected)
            if score > best_score:
                best, best_score = c, score
        selected.append(best)
    want = [candidates[c] for c in selected]
    hits = client.query_points(name, query=models.NearestQuery(nearest=q.tolist(), mmr=models.Mmr(diversity=diversity, candidates_limit=40)),
                               using=using, limit=8, search_params=EXACT).points
    check(hits, want)
    via_prefetch = client.query_points(name, prefetch=models.Prefetch(query=q.tolist(), using=using, limit=60, params=EXACT),
                                       query=models.NearestQuery(nearest=q.tolist(), mmr=models.Mmr(diversity=diversity, candidates_limit=40)),
                                       using=using, limit=8).points
    check(via_prefetch, want)
    expect_status(lambda: client.query_points(name, query=models.NearestQuery(nearest=q.tolist(), mmr=models.Mmr(diversity=1.5)),
                                              using=using), 400, 422)


def test_lookup_from_another_collection(client, name, data):
    other = name + "_lookup"
    client.create_collection(other, vectors_config={"v": models.VectorParams(size=DIM, distance=models.Distance.DOT)})
    target = data.rng.normal(size=DIM).astype(np.float32)
    client.upsert(other, points=[models.PointStruct(id=3, vector={"v": target.tolist()})])
    hits = client.query_points(name, query=3, using="dot", limit=5, search_params=EXACT,
                               lookup_from=models.LookupLocation(collection=other, vector="v")).points
    # The id refers to the other collection: point 3 here is not excluded.
    check(hits, data.nearest("dot", target)[:5])
    # Recommend with ids looked up elsewhere, inside a prefetch.
    hits = client.query_points(name, prefetch=models.Prefetch(
        query=models.RecommendQuery(recommend=models.RecommendInput(positive=[3])), using="dot", limit=7, params=EXACT,
        lookup_from=models.LookupLocation(collection=other, vector="v")), query=models.FusionQuery(fusion=models.Fusion.RRF)).points
    assert [h.id for h in hits] == [i for i, _ in data.nearest("dot", target)[:7]]
    expect_status(lambda: client.query_points(name, query=3, using="dot",
                                              lookup_from=models.LookupLocation(collection="no_such_collection")), 404)


def groups_reference(data, ranking, key, size, limit):
    order, members = [], {}
    for pid, score in ranking:
        value = data.payloads[pid].get(key)
        if value is None:
            continue
        keys = []
        for v in (value if isinstance(value, list) else [value]):
            if v not in keys:
                keys.append(v)
        for k in keys:
            if k not in members:
                order.append(k)
                members[k] = []
            if len(members[k]) < size:
                members[k].append((pid, score))
    return [(k, members[k]) for k in order[:limit]]


def groups_driver_reference(data, run, key, size, limit):
    """Qdrant's group-by driver (lib/shard/src/grouping/driver.rs), for rankings that change
    between its requests (fusion over prefetches): up to 5 requests that skip grouped points
    and full groups, then up to 5 that fill the best groups not yet full. `run(skip_ids,
    except_keys, only_keys)` answers one request, best first; larger scores rank first."""
    order, members, best, full, seen = [], {}, {}, set(), set()

    def best_keys():
        return sorted(order, key=lambda k: (-best[k], order.index(k)))[:limit]

    phases = ["collect"] * 5 + ["fill"] * 5
    while phases:
        phase = phases.pop(0)
        if phase == "collect":
            hits = run(seen, [k for k in order if k in full], None)
        else:
            hits = run(seen, [], [k for k in best_keys() if k not in full])
        for pid, score in hits:
            for k in dict.fromkeys(data.payloads[pid][key] if isinstance(data.payloads[pid][key], list)
                                   else [data.payloads[pid][key]]):
                if k not in members:
                    order.append(k)
                    members[k] = []
                if pid not in [p for p, _ in members[k]]:
                    members[k].append((pid, score))
                    seen.add(pid)
                if len(members[k]) == size:
                    full.add(k)
                best[k] = max(best.get(k, score), score)
        enough = sum(k in full for k in best_keys()) >= limit
        if enough or (phase == "fill" and not hits):
            break
        if phase == "collect" and not hits:
            phases = [p for p in phases if p == "fill"]
    return [(k, sorted(members[k], key=lambda x: (-x[1], x[0]))[:size]) for k in best_keys()]


def test_query_groups(client, name, data):
    q = data.rng.normal(size=DIM)
    ranking = data.nearest("euc", q)
    for key, size, limit in [("g", 3, 4), ("g", 50, 6), ("tags", 2, 20)]:
        result = client.query_points_groups(name, group_by=key, query=q.tolist(), using="euc", group_size=size, limit=limit,
                                            search_params=EXACT)
        want = groups_reference(data, ranking, key, size, limit)
        assert [g.id for g in result.groups] == [k for k, _ in want]
        for group, (_, hits) in zip(result.groups, want):
            check(group.hits, hits)
            assert all(h.payload["i"] == h.id for h in group.hits)
    assert client.query_points_groups(name, group_by="missing", query=q.tolist(), using="euc").groups == []
    # with_lookup: group values are point ids of another collection.
    owners = name + "_owners"
    client.create_collection(owners, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(owners, points=[models.PointStruct(id=1, vector=[1.0, 0.0], payload={"owner": "one"}),
                                  models.PointStruct(id=2, vector=[0.0, 1.0], payload={"owner": "two"})])
    result = client.query_points_groups(name, group_by="tags", query=q.tolist(), using="euc", group_size=1, limit=20,
                                        with_lookup=models.WithLookup(collection=owners, with_payload=True, with_vectors=True),
                                        with_payload=False)
    lookups = {g.id: g.lookup for g in result.groups}
    assert lookups[1].payload == {"owner": "one"} and lookups[1].vector == [1.0, 0.0]
    assert lookups[2].payload == {"owner": "two"}
    assert lookups[0] is None and lookups["t1"] is None
    assert all(h.payload is None for g in result.groups for h in g.hits)
    by_name = client.query_points_groups(name, group_by="tags", query=q.tolist(), using="euc", group_size=1, limit=20,
                                         with_lookup=owners)
    assert {g.id: g.lookup.payload for g in by_name.groups if g.lookup} == {1: {"owner": "one"}, 2: {"owner": "two"}}
    # Groups over fused prefetches: the fused ranking, grouped.
    # The group_by field must exist: that filter reaches the prefetches too.
    # Each request of the group-by driver fuses anew, over the points it has not grouped yet.
    def run(skip, except_keys, only_keys):
        def keep(x):
            g = data.payloads[x[0]].get("g")
            return (g is not None and x[0] not in skip and g not in except_keys
                    and (only_keys is None or g in only_keys))
        # Prefetch limits are multiplied by group_size (Qdrant), hence 20 per list.
        a = list(filter(keep, data.nearest("dot", q)))[:20]
        b = list(filter(keep, data.nearest("euc", q)))[:20]
        return rrf([a, b])[:6]
    result = client.query_points_groups(name, group_by="g", group_size=2, limit=3, prefetch=[
        models.Prefetch(query=q.tolist(), using="dot", limit=10, params=EXACT),
        models.Prefetch(query=q.tolist(), using="euc", limit=10, params=EXACT)], query=models.FusionQuery(fusion=models.Fusion.RRF))
    want = groups_driver_reference(data, run, "g", 2, 3)
    assert [g.id for g in result.groups] == [k for k, _ in want]
    for group, (_, hits) in zip(result.groups, want):
        check(group.hits, hits, tol=1e-6)


def test_legacy_recommend_discover_and_search_groups(server, client, name, data):
    base = f"{server.url}/collections/{name}/points"
    stored = data.stored("dot")
    body = {"positive": [3, 50], "negative": [8], "strategy": "sum_scores", "using": "dot", "limit": 5, "with_payload": True}
    got = httpx.post(f"{base}/recommend", json=body).json()["result"]
    total = stored @ stored[3] + stored @ stored[50] - stored @ stored[8]
    want = ranked({i: float(total[i]) for i in range(N) if i not in {3, 50, 8}})[:5]
    assert [p["id"] for p in got] == [i for i, _ in want]
    assert all(p["payload"]["i"] == p["id"] for p in got)
    batch = httpx.post(f"{base}/recommend/batch", json={"searches": [body, {**body, "limit": 2}]}).json()["result"]
    assert [len(r) for r in batch] == [5, 2]
    grouped = httpx.post(f"{base}/recommend/groups", json={**body, "group_by": "g", "group_size": 2, "limit": 3}).json()["result"]
    assert len(grouped["groups"]) == 3
    discover = httpx.post(f"{base}/discover", json={"target": 5, "context": [{"positive": 10, "negative": 20}], "using": "dot",
                                                    "limit": 4}).json()["result"]
    assert len(discover) == 4 and not {p["id"] for p in discover} & {5, 10, 20}
    context = httpx.post(f"{base}/discover/batch", json={"searches": [
        {"context": [{"positive": 10, "negative": 20}], "using": "dot", "limit": 3}]}).json()["result"]
    assert len(context[0]) == 3
    q = data.rng.normal(size=DIM)
    search_groups = httpx.post(f"{base}/search/groups", json={
        "vector": {"name": "euc", "vector": q.tolist()}, "group_by": "g", "group_size": 2, "limit": 3,
        "params": {"exact": True}}).json()["result"]
    want = groups_reference(data, data.nearest("euc", q), "g", 2, 3)
    assert [g["id"] for g in search_groups["groups"]] == [k for k, _ in want]
    assert [[h["id"] for h in g["hits"]] for g in search_groups["groups"]] == [[i for i, _ in hits] for _, hits in want]


def test_legacy_rpcs_over_grpc(server, name, data):
    """The legacy RPCs (Recommend[Batch, Groups], Discover[Batch], SearchGroups) answer as
    the legacy REST endpoints do; qdrant-client 1.20 reaches them only through its raw stubs."""
    from qdrant_client import QdrantClient, grpc as g
    base = f"{server.url}/collections/{name}/points"
    remote = QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, timeout=60)
    stub = remote.grpc_points
    pid = lambda i: g.PointId(num=i)
    example = lambda i: g.VectorExample(id=pid(i))

    def same(got, want):
        assert [p.id.num for p in got] == [p["id"] for p in want]
        np.testing.assert_allclose([p.score for p in got], [p["score"] for p in want], rtol=1e-6)

    body = {"positive": [3, 50], "negative": [8], "strategy": "sum_scores", "using": "dot", "limit": 5, "with_payload": True}
    request = g.RecommendPoints(collection_name=name, positive=[pid(3), pid(50)], negative=[pid(8)],
                                strategy=g.RecommendStrategy.SumScores, using="dot", limit=5,
                                with_payload=g.WithPayloadSelector(enable=True))
    got = stub.Recommend(request).result
    same(got, httpx.post(f"{base}/recommend", json=body).json()["result"])
    assert all(p.payload["i"].integer_value == p.id.num for p in got)
    # Vectors as examples (the oneof and the deprecated `data`), a strategy by default.
    v, w = data.vectors["dot"][7].tolist(), data.vectors["dot"][9].tolist()
    want = httpx.post(f"{base}/recommend", json={"positive": [v], "negative": [w], "using": "dot", "limit": 4}).json()
    got = stub.Recommend(g.RecommendPoints(collection_name=name, positive_vectors=[g.Vector(dense=g.DenseVector(data=v))],
                                           negative_vectors=[g.Vector(data=w)], using="dot", limit=4)).result
    same(got, want["result"])
    batch = stub.RecommendBatch(g.RecommendBatchPoints(collection_name=name, recommend_points=[
        request, g.RecommendPoints(collection_name=name, positive=[pid(3)], using="dot", limit=2)])).result
    assert [len(r.result) for r in batch] == [5, 2]
    grouped = stub.RecommendGroups(g.RecommendPointGroups(
        collection_name=name, positive=[pid(3), pid(50)], negative=[pid(8)], strategy=g.RecommendStrategy.SumScores,
        using="dot", group_by="g", group_size=2, limit=3)).result.groups
    want = httpx.post(f"{base}/recommend/groups", json={**body, "group_by": "g", "group_size": 2, "limit": 3}).json()
    assert [group.id.string_value for group in grouped] == [group["id"] for group in want["result"]["groups"]]
    for group, want_group in zip(grouped, want["result"]["groups"]):
        same(group.hits, want_group["hits"])
    # Discover with a target, and context pairs alone.
    pair = g.ContextExamplePair(positive=example(10), negative=example(20))
    got = stub.Discover(g.DiscoverPoints(collection_name=name, target=g.TargetVector(single=example(5)), context=[pair],
                                         using="dot", limit=4)).result
    same(got, httpx.post(f"{base}/discover", json={"target": 5, "context": [{"positive": 10, "negative": 20}],
                                                   "using": "dot", "limit": 4}).json()["result"])
    batch = stub.DiscoverBatch(g.DiscoverBatchPoints(collection_name=name, discover_points=[
        g.DiscoverPoints(collection_name=name, context=[pair], using="dot", limit=3)])).result
    want = httpx.post(f"{base}/discover/batch", json={"searches": [
        {"context": [{"positive": 10, "negative": 20}], "using": "dot", "limit": 3}]}).json()["result"]
    np.testing.assert_allclose([p.score for p in batch[0].result], [p["score"] for p in want[0]], atol=1e-6)
    # Search groups with a named vector.
    q = data.rng.normal(size=DIM).tolist()
    grouped = stub.SearchGroups(g.SearchPointGroups(collection_name=name, vector=q, vector_name="euc", group_by="g",
                                                    group_size=2, limit=3, params=g.SearchParams(exact=True))).result.groups
    want = groups_reference(data, data.nearest("euc", q), "g", 2, 3)
    assert [group.id.string_value for group in grouped] == [k for k, _ in want]
    assert [[h.id.num for h in group.hits] for group in grouped] == [[i for i, _ in hits] for _, hits in want]
    # Errors carry Qdrant's gRPC codes.
    expect_status(lambda: stub.Recommend(g.RecommendPoints(collection_name=name, negative=[pid(1)], using="dot",
                                                           limit=3)), 400)
    expect_status(lambda: stub.Discover(g.DiscoverPoints(collection_name=name + "_missing", context=[pair], limit=3)), 404)
    remote.close()
