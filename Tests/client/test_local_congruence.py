"""Strata against qdrant-client's local mode (`QdrantClient(":memory:")`, the
executable reference of Qdrant's semantics) on the same random data, several
seeds: every filter condition of the language, conditional writes
(`update_mode`, `update_filter`), `order_by` over repeated values, keyed
`set_payload`, collections without vectors, multivector average_vector and MMR.
Exact scoring everywhere, so answers must agree exactly (scores to 1e-4)."""
import random
import uuid

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

WORDS = ["ape", "bee", "cat", "dog", "eel", "fox", "gnu", "hen"]
CITIES = ["Berlin", "Bern", "Lima", "London", "Paris"]


def random_payload(rng: random.Random, i: int) -> dict:
    p = {
        "city": rng.choice(CITIES),
        "words": " ".join(rng.sample(WORDS, rng.randrange(1, 4))),
        "tags": rng.sample(WORDS, rng.randrange(0, 4)),
        "n": rng.randrange(-5, 20),
        "price": round(rng.uniform(0, 10), 3),
        "when": rng.choice(["2024-01-0{}T10:00:00+0200", "2024-01-0{} 08:30:00Z", "2024-01-0{}"]).format(rng.randrange(1, 9)),
        "geo": {"lon": rng.uniform(-10, 10), "lat": rng.uniform(40, 50)},
        "rows": [{"w": rng.choice(WORDS), "k": rng.randrange(5)} for _ in range(rng.randrange(0, 3))],
        "grid": [[rng.randrange(3) for _ in range(rng.randrange(0, 3))] for _ in range(rng.randrange(0, 3))],
    }
    # Missing keys, nulls and nulls inside arrays, which the conditions treat carefully.
    if i % 5 == 0:
        del p["city"]
    if i % 7 == 0:
        p["tags"] = None
    if i % 11 == 0:
        p["tags"] = [rng.choice(WORDS), None]
    if i % 13 == 0:
        p["maybe"] = [None]
    elif i % 3 == 0:
        p["maybe"] = None
    return p


def random_condition(rng: random.Random, depth: int = 0) -> models.Condition:
    kind = rng.randrange(22 if depth < 2 else 20)
    word = rng.choice(WORDS)
    F = models.FieldCondition
    if kind == 0:
        return F(key="city", match=models.MatchValue(value=rng.choice(CITIES)))
    if kind == 1:
        return F(key="tags", match=models.MatchAny(any=rng.sample(WORDS, 2)))
    if kind == 2:
        return F(key=rng.choice(["city", "tags", "maybe"]), match=models.MatchExcept(**{"except": rng.sample(WORDS + CITIES, 3)}))
    if kind == 3:
        return F(key="words", match=models.MatchText(text=" ".join(rng.sample(WORDS, rng.randrange(1, 3)))))
    if kind == 4:
        return F(key="words", match=models.MatchTextAny(text_any=" ".join(rng.sample(WORDS, 2))))
    if kind == 5:
        return F(key="words", match=models.MatchPhrase(phrase=" ".join(rng.sample(WORDS, 2))))
    if kind == 6:
        return F(key=rng.choice(["city", "tags"]), match=models.MatchPrefix(prefix=rng.choice(CITIES + WORDS)[:2]))
    if kind == 7:
        return F(key=rng.choice(["city", "tags"]), match=models.MatchSubstring(substring=rng.choice(CITIES + WORDS)[1:3]))
    if kind == 8:
        lo = rng.uniform(0, 8)
        return F(key="price", range=models.Range(gt=lo, lte=lo + rng.uniform(0, 4)))
    if kind == 9:
        return F(key="n", range=models.Range(gte=rng.randrange(-5, 10)))
    if kind == 10:
        return F(key="when", range=models.DatetimeRange(gte=f"2024-01-0{rng.randrange(1, 9)}T00:00:00Z"))
    if kind == 11:
        lon, lat = rng.uniform(-10, 5), rng.uniform(40, 45)
        return F(key="geo", geo_bounding_box=models.GeoBoundingBox(
            top_left=models.GeoPoint(lon=lon, lat=lat + 5), bottom_right=models.GeoPoint(lon=lon + 5, lat=lat)))
    if kind == 12:
        return F(key="geo", geo_radius=models.GeoRadius(
            center=models.GeoPoint(lon=rng.uniform(-10, 10), lat=rng.uniform(40, 50)), radius=rng.uniform(1e5, 6e5)))
    if kind == 13:
        lon, lat = rng.uniform(-10, 5), rng.uniform(40, 45)
        ring = [models.GeoPoint(lon=lon, lat=lat), models.GeoPoint(lon=lon + 8, lat=lat),
                models.GeoPoint(lon=lon + 4, lat=lat + 6), models.GeoPoint(lon=lon, lat=lat)]
        return F(key="geo", geo_polygon=models.GeoPolygon(exterior=models.GeoLineString(points=ring)))
    if kind == 14:
        key = rng.choice(["tags", "grid", "grid[]", "rows[].w", "maybe", "missing"])
        return F(key=key, values_count=models.ValuesCount(gte=rng.randrange(0, 3), lt=rng.randrange(1, 4)))
    if kind == 15:
        return models.IsEmptyCondition(is_empty=models.PayloadField(key=rng.choice(["tags", "maybe", "city", "grid", "rows"])))
    if kind == 16:
        return models.IsNullCondition(is_null=models.PayloadField(key=rng.choice(["tags", "maybe", "city"])))
    if kind == 17:
        return models.HasIdCondition(has_id=rng.sample(range(200), 20))
    if kind == 18:
        return models.SliceCondition(slice=models.Slice(index=rng.randrange(3), total=3))
    if kind == 19:
        return models.NestedCondition(nested=models.Nested(key=rng.choice(["rows", "rows[]"]), filter=models.Filter(must=[
            F(key="w", match=models.MatchValue(value=word)), F(key="k", range=models.Range(gte=rng.randrange(4)))])))
    return random_filter(rng, depth + 1)


def random_filter(rng: random.Random, depth: int = 0) -> models.Filter:
    def some():
        return [random_condition(rng, depth) for _ in range(rng.randrange(1, 3))]
    clause = rng.randrange(4)
    if clause == 0:
        return models.Filter(must=some())
    if clause == 1:
        return models.Filter(should=some())
    if clause == 2:
        return models.Filter(must_not=some())
    return models.Filter(min_should=models.MinShould(conditions=some() + some(), min_count=2))


def both(client, name, create):
    """Runs `create(c)` on the server and on a fresh local-mode client."""
    local = QdrantClient(":memory:")
    for c in (client, local):
        create(c)
    return local


def ids_of(records):
    return [r.id for r in records]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("indexed", [False, True])
def test_every_condition_agrees_with_local_mode(client, name, seed, indexed):
    rng = random.Random(seed)
    points = [models.PointStruct(id=i if i % 4 else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                 vector=[rng.random(), rng.random()], payload=random_payload(rng, i))
              for i in range(200)]

    def create(c):
        c.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        if indexed and isinstance(c, QdrantClient) and c is client:
            for key, schema in [("city", models.PayloadSchemaType.KEYWORD), ("tags", models.PayloadSchemaType.KEYWORD),
                                ("n", models.PayloadSchemaType.INTEGER), ("price", models.PayloadSchemaType.FLOAT),
                                ("when", models.PayloadSchemaType.DATETIME), ("geo", models.PayloadSchemaType.GEO),
                                ("words", models.PayloadSchemaType.TEXT)]:
                c.create_payload_index(name, key, schema)
        c.upsert(name, points=points)

    local = both(client, name, create)
    for _ in range(60):
        flt = random_filter(rng)
        want = local.count(name, count_filter=flt).count
        assert client.count(name, count_filter=flt, exact=True).count == want, flt
        got = client.scroll(name, scroll_filter=flt, limit=300, with_payload=False)[0]
        expected = local.scroll(name, scroll_filter=flt, limit=300, with_payload=False)[0]
        assert sorted(map(str, ids_of(got))) == sorted(map(str, ids_of(expected))), flt
    client.delete_collection(name)


def test_conditional_writes_agree_with_local_mode(server, client, name):
    rng = random.Random(7)
    base = [models.PointStruct(id=i, vector=[1.0, float(i)], payload={"v": i % 3, "tag": rng.choice(WORDS)})
            for i in range(30)]
    local = both(client, name, lambda c: (
        c.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.EUCLID)),
        c.upsert(name, points=base)))
    for round_ in range(12):
        batch = [models.PointStruct(id=rng.randrange(45), vector=[rng.random(), rng.random()],
                                    payload={"v": rng.randrange(3), "tag": rng.choice(WORDS), "round": round_})
                 for _ in range(8)]
        batch = list({p.id: p for p in batch}.values())
        mode = rng.choice([None, models.UpdateMode.UPSERT, models.UpdateMode.INSERT_ONLY, models.UpdateMode.UPDATE_ONLY])
        flt = rng.choice([None, models.Filter(must=[models.FieldCondition(key="v", match=models.MatchValue(value=rng.randrange(3)))])])
        for c in (client, local):
            c.upsert(name, points=batch, update_mode=mode, update_filter=flt)
        vectors = [models.PointVectors(id=rng.randrange(30), vector=[rng.random(), 5.0]) for _ in range(3)]
        vectors = list({p.id: p for p in vectors}.values())
        vflt = models.Filter(must=[models.FieldCondition(key="tag", match=models.MatchAny(any=rng.sample(WORDS, 3)))])
        for c in (client, local):
            c.update_vectors(name, points=vectors, update_filter=vflt)
        got = client.scroll(name, limit=100, with_vectors=True)[0]
        want = local.scroll(name, limit=100, with_vectors=True)[0]
        assert [(p.id, p.payload) for p in got] == [(p.id, p.payload) for p in want], (round_, mode, flt)
        for a, b in zip(got, want):
            assert np.allclose(a.vector, b.vector, atol=1e-6), (round_, a.id)
    import httpx
    before = client.retrieve(name, ids=[0])[0].payload
    response = httpx.put(f"{server.url}/collections/{name}/points",
                         json={"points": [{"id": 0, "vector": [0, 0], "payload": {}}], "update_mode": "sometimes"})
    assert response.status_code == 400 and "update_mode" in response.json()["status"]["error"]
    assert client.retrieve(name, ids=[0])[0].payload == before


def test_order_by_repeats_a_point_per_value(client, name):
    points = [models.PointStruct(id=1, vector={}, payload={"xs": [1, 2, 3, 4]}),
              models.PointStruct(id=2, vector={}, payload={"xs": [2, 3, 4, 5]}),
              models.PointStruct(id=3, vector={}, payload={"xs": 3})]
    local = both(client, name, lambda c: (c.create_collection(name, vectors_config={}), c.upsert(name, points=points)))
    client.create_payload_index(name, "xs", models.PayloadSchemaType.INTEGER)
    for direction in (models.Direction.ASC, models.Direction.DESC):
        order = models.OrderBy(key="xs", direction=direction)
        got = client.scroll(name, order_by=order, limit=20)[0]
        want = local.scroll(name, order_by=order, limit=20)[0]
        assert [r.order_value for r in got] == [r.order_value for r in want]
        assert sorted((r.order_value, r.id) for r in got) == sorted((r.order_value, r.id) for r in want)
    assert len(client.scroll(name, order_by="xs", limit=20)[0]) == 9


@pytest.mark.parametrize("payload,new,key", [
    ({"nest": [{"a": "100", "b": "200"}]}, {"a": "101"}, "nest[0]"),
    ({"nest": [{"a": "100"}]}, {"d": "404"}, "nest[1]"),
    ({"nest": [{"a": "100"}]}, {"d": "404"}, "nest[].nest"),
    ({}, {"d": "404"}, "nest[]"),
    ({"nest": [{"a": [], "b": "200"}]}, {"a": "101"}, "nest[0].a[]"),
    ({"a": []}, {}, "a.b[0]"),
    ({"a": {"c": [{"d": 1}]}}, {"a": 1}, "a.c[][]"),
    ({"a": 1, "b": 2}, {"a": None, "c": 3}, None),
    ({"o": {"a": 1, "b": 2}}, {"a": None}, "o"),
])
def test_set_payload_agrees_with_local_mode(client, name, payload, new, key):
    local = both(client, name, lambda c: (
        c.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)),
        c.upsert(name, points=[models.PointStruct(id=1, vector=[1, 0], payload=payload)]),
        c.set_payload(name, payload=new, points=[1], key=key)))
    assert client.retrieve(name, ids=[1])[0].payload == local.retrieve(name, ids=[1])[0].payload


def test_multivector_average_vector_and_mmr_agree_with_local_mode(client, name):
    rng = np.random.default_rng(4)
    points = [models.PointStruct(id=i, vector={"m": rng.standard_normal((rng.integers(1, 4), 4)).tolist()})
              for i in range(60)]
    config = {"m": models.VectorParams(size=4, distance=models.Distance.COSINE,
                                       multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM))}
    local = both(client, name, lambda c: (c.create_collection(name, vectors_config=config), c.upsert(name, points=points)))
    exact = models.SearchParams(exact=True)
    for positive, negative in [([1], []), ([1, 2], [3]), ([5], [6, 7])]:
        query = models.RecommendQuery(recommend=models.RecommendInput(
            positive=positive, negative=negative, strategy=models.RecommendStrategy.AVERAGE_VECTOR))
        got = client.query_points(name, query=query, using="m", limit=8, search_params=exact).points
        want = local.query_points(name, query=query, using="m", limit=8).points
        assert ids_of(got) == ids_of(want)
        assert np.allclose([p.score for p in got], [p.score for p in want], atol=1e-4)
    for diversity in (0.0, 0.5, 0.9):
        query = models.NearestQuery(nearest=rng.standard_normal((2, 4)).tolist(),
                                    mmr=models.Mmr(diversity=diversity, candidates_limit=20))
        got = client.query_points(name, query=query, using="m", limit=6, search_params=exact).points
        want = local.query_points(name, query=query, using="m", limit=6).points
        assert ids_of(got) == ids_of(want), diversity


def test_keyword_prefix_index_option(client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload={"city": c})
                                for i, c in enumerate(CITIES)])
    client.create_payload_index(name, "city", models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, prefix=True))
    params = client.get_collection(name).payload_schema["city"].params
    assert params.prefix is True
    flt = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchPrefix(prefix="Be"))])
    assert sorted(r.payload["city"] for r in client.scroll(name, scroll_filter=flt)[0]) == ["Berlin", "Bern"]
