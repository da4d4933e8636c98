"""Filters, payload indexes, facets, ordering and writes by filter through the
official client, checked against a reference evaluation written here in Python."""
import math
import random
import uuid

import numpy as np
import pytest
from qdrant_client import models

from helpers import exact_top, expect_status

CITIES = ["London", "Paris", "Berlin", "Rome"]
WORDS = ["red", "green", "fast", "slow", "cat", "dog"]


def make_points(n=300, dim=8, seed=5):
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    ids, payloads = [], []
    for i in range(n):
        ids.append(i if i % 5 else str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        p = {"city": rng.choice(CITIES), "price": round(rng.uniform(0, 100), 2), "count": rng.randrange(10),
             "tags": rng.sample(WORDS, rng.randrange(3)), "sold": i % 3 == 0,
             "location": {"lon": rng.uniform(-10, 10), "lat": rng.uniform(40, 55)},
             "created": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
             "text": " ".join(rng.choice(WORDS) for _ in range(3)),
             "reviews": [{"who": rng.choice(["ann", "bob"]), "stars": rng.randrange(1, 6)} for _ in range(rng.randrange(3))]}
        if i % 7 == 0:
            del p["city"]
        p["note"] = None if i % 4 == 0 else f"n{i % 13}"
        payloads.append(p)
    return ids, vectors, payloads


def haversine(a, b):
    la1, la2 = math.radians(a["lat"]), math.radians(b["lat"])
    dla, dlo = la2 - la1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1, math.sqrt(h)))


# The UUID ids of make_points(), in order.
UUID_IDS = [i for i in make_points()[0] if isinstance(i, str)]
# A polygon (lon, lat) around the middle of the points' area, and a hole in it.
POLYGON = [(-6, 43), (6, 43), (7, 50), (-4, 52), (-6, 43)]
HOLE = [(-2, 46), (2, 46), (2, 48), (-2, 48), (-2, 46)]


def inside(point, ring):
    """Ray casting in the (lon, lat) plane, as Qdrant checks polygons."""
    x, y, result = point["lon"], point["lat"], False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


# (name, Filter, reference predicate over (id, payload))
CASES = [
    ("match", models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="Paris"))]),
     lambda i, p: p.get("city") == "Paris"),
    ("any on unindexed array", models.Filter(must=[models.FieldCondition(key="tags", match=models.MatchAny(any=["red", "cat"]))]),
     lambda i, p: bool({"red", "cat"} & set(p["tags"]))),
    ("except", models.Filter(must=[models.FieldCondition(key="city", match=models.MatchExcept(**{"except": ["Paris", "Rome"]}))]),
     lambda i, p: "city" in p and p["city"] not in ("Paris", "Rome")),
    ("range", models.Filter(must=[models.FieldCondition(key="price", range=models.Range(gte=20, lt=45.5))]),
     lambda i, p: 20 <= p["price"] < 45.5),
    ("integer match and must_not", models.Filter(must=[models.FieldCondition(key="count", match=models.MatchValue(value=3))],
                                                 must_not=[models.FieldCondition(key="sold", match=models.MatchValue(value=True))]),
     lambda i, p: p["count"] == 3 and not p["sold"]),
    ("should", models.Filter(should=[models.FieldCondition(key="city", match=models.MatchValue(value="Rome")),
                                     models.FieldCondition(key="price", range=models.Range(lt=10))]),
     lambda i, p: p.get("city") == "Rome" or p["price"] < 10),
    ("datetime range", models.Filter(must=[models.FieldCondition(
        key="created", range=models.DatetimeRange(gte="2024-03-01T00:00:00Z", lt="2024-06-01T00:00:00Z"))]),
     lambda i, p: "2024-03" <= p["created"][:7] <= "2024-05"),
    ("geo radius", models.Filter(must=[models.FieldCondition(
        key="location", geo_radius=models.GeoRadius(center=models.GeoPoint(lon=0, lat=47), radius=400_000))]),
     lambda i, p: haversine({"lon": 0, "lat": 47}, p["location"]) < 400_000),
    ("geo box", models.Filter(must=[models.FieldCondition(key="location", geo_bounding_box=models.GeoBoundingBox(
        top_left=models.GeoPoint(lon=-5, lat=50), bottom_right=models.GeoPoint(lon=5, lat=44)))]),
     lambda i, p: -5 < p["location"]["lon"] < 5 and 44 < p["location"]["lat"] < 50),
    ("full text", models.Filter(must=[models.FieldCondition(key="text", match=models.MatchText(text="cat dog"))]),
     lambda i, p: {"cat", "dog"} <= set(p["text"].split())),
    ("is_empty", models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="city"))]),
     lambda i, p: "city" not in p),
    ("values_count", models.Filter(must=[models.FieldCondition(key="tags", values_count=models.ValuesCount(gte=2))]),
     lambda i, p: len(p["tags"]) >= 2),
    ("nested", models.Filter(must=[models.NestedCondition(nested=models.Nested(key="reviews", filter=models.Filter(must=[
        models.FieldCondition(key="who", match=models.MatchValue(value="ann")),
        models.FieldCondition(key="stars", range=models.Range(gte=4))])))]),
     lambda i, p: any(r["who"] == "ann" and r["stars"] >= 4 for r in p["reviews"])),
    ("has_id", models.Filter(must=[models.HasIdCondition(has_id=[1, 2, 3, 250])]),
     lambda i, p: i in (1, 2, 3, 250)),
    ("has_id with uuids", models.Filter(must=[models.HasIdCondition(has_id=[UUID_IDS[0], UUID_IDS[7], 4])]),
     lambda i, p: i in (UUID_IDS[0], UUID_IDS[7], 4)),
    ("min_should", models.Filter(min_should=models.MinShould(conditions=[
        models.FieldCondition(key="city", match=models.MatchValue(value="Paris")),
        models.FieldCondition(key="price", range=models.Range(lt=50)),
        models.FieldCondition(key="count", match=models.MatchValue(value=3))], min_count=2)),
     lambda i, p: (p.get("city") == "Paris") + (p["price"] < 50) + (p["count"] == 3) >= 2),
    ("is_null", models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="note"))]),
     lambda i, p: p["note"] is None),
    ("bool match", models.Filter(must=[models.FieldCondition(key="sold", match=models.MatchValue(value=False))]),
     lambda i, p: not p["sold"]),
    ("any integers", models.Filter(must=[models.FieldCondition(key="count", match=models.MatchAny(any=[1, 3, 5]))]),
     lambda i, p: p["count"] in (1, 3, 5)),
    ("except integers", models.Filter(must=[models.FieldCondition(
        key="count", match=models.MatchExcept(**{"except": [0, 1, 2]}))]),
     lambda i, p: p["count"] not in (0, 1, 2)),
    ("text_any", models.Filter(must=[models.FieldCondition(key="text", match=models.MatchTextAny(text_any="cat dog"))]),
     lambda i, p: bool({"cat", "dog"} & set(p["text"].split()))),
    ("prefix", models.Filter(must=[models.FieldCondition(key="city", match=models.MatchPrefix(prefix="R"))]),
     lambda i, p: p.get("city", "").startswith("R")),
    ("substring", models.Filter(must=[models.FieldCondition(key="note", match=models.MatchSubstring(substring="1"))]),
     lambda i, p: p["note"] is not None and "1" in p["note"]),
    ("datetime gt and lte", models.Filter(must=[models.FieldCondition(
        key="created", range=models.DatetimeRange(gt="2024-02-10T10:00:00Z", lte="2024-07-03T10:00:00Z"))]),
     lambda i, p: "2024-02-10T10:00:00Z" < p["created"] <= "2024-07-03T10:00:00Z"),
    ("geo polygon with a hole", models.Filter(must=[models.FieldCondition(key="location", geo_polygon=models.GeoPolygon(
        exterior=models.GeoLineString(points=[models.GeoPoint(lon=lon, lat=lat) for lon, lat in POLYGON]),
        interiors=[models.GeoLineString(points=[models.GeoPoint(lon=lon, lat=lat) for lon, lat in HOLE])]))]),
     lambda i, p: inside(p["location"], POLYGON) and not inside(p["location"], HOLE)),
    ("values_count lt", models.Filter(must=[models.FieldCondition(key="tags", values_count=models.ValuesCount(lt=1))]),
     lambda i, p: len(p["tags"]) < 1),
    ("nested must_not", models.Filter(must=[models.NestedCondition(nested=models.Nested(key="reviews", filter=models.Filter(
        must_not=[models.FieldCondition(key="who", match=models.MatchValue(value="ann"))])))]),
     lambda i, p: any(r["who"] != "ann" for r in p["reviews"])),
]


def id_key(i):
    return (0, i, b"") if isinstance(i, int) else (1, 0, uuid.UUID(i).bytes)


@pytest.fixture
def loaded(client, name):
    ids, vectors, payloads = make_points()
    # Tiny segments: sealed every 64 points, each with an HNSW graph.
    client.create_collection(name, vectors_config=models.VectorParams(size=8, distance=models.Distance.EUCLID),
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=2),
                             hnsw_config=models.HnswConfigDiff(m=8, ef_construct=64, full_scan_threshold=1))
    for field, schema in [("city", models.PayloadSchemaType.KEYWORD), ("price", models.PayloadSchemaType.FLOAT),
                          ("count", models.PayloadSchemaType.INTEGER), ("location", models.PayloadSchemaType.GEO),
                          ("created", models.PayloadSchemaType.DATETIME), ("sold", models.PayloadSchemaType.BOOL),
                          ("text", models.TextIndexParams(type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD,
                                                          lowercase=True))]:
        client.create_payload_index(name, field_name=field, field_schema=schema)
    client.upload_points(name, points=[models.PointStruct(id=i, vector=v.tolist(), payload=p)
                                       for i, v, p in zip(ids, vectors, payloads)], batch_size=50, parallel=2)
    return ids, vectors, payloads


def test_payload_schema_lists_the_indexes(client, name, loaded):
    ids, _, payloads = loaded
    schema = client.get_collection(name).payload_schema
    assert set(schema) == {"city", "price", "count", "location", "created", "sold", "text"}
    assert schema["city"].data_type == models.PayloadSchemaType.KEYWORD
    assert schema["city"].points == sum("city" in p for p in payloads)
    assert schema["text"].params.type == models.TextIndexType.TEXT
    client.delete_payload_index(name, field_name="sold")
    assert "sold" not in client.get_collection(name).payload_schema


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_filters_in_query_scroll_and_count(client, name, loaded, case):
    ids, vectors, payloads = loaded
    _, flt, predicate = case
    matching = [i for i, p in zip(ids, payloads) if predicate(i, p)]
    assert 0 < len(matching) < len(ids), "the case must select a proper subset"
    assert client.count(name, count_filter=flt, exact=True).count == len(matching)
    # Scroll every page (mixed integer and UUID ids, Strata's id order).
    seen, offset = [], None
    while True:
        page, offset = client.scroll(name, scroll_filter=flt, limit=17, offset=offset)
        seen += [p.id for p in page]
        if offset is None:
            break
    assert seen == sorted(matching, key=id_key)
    # Exact filtered search equals the reference; graph search returns only matches.
    rows = [ids.index(i) for i in matching]
    query = np.random.default_rng(9).standard_normal(8).astype(np.float32)
    exact = client.query_points(name, query=query.tolist(), query_filter=flt, limit=5,
                                search_params=models.SearchParams(exact=True)).points
    want, _ = exact_top(matching, vectors[rows], query, "Euclid", 5)
    assert [p.id for p in exact] == want
    approx = client.query_points(name, query=query.tolist(), query_filter=flt, limit=5).points
    assert set(p.id for p in approx) <= set(matching) and len(approx) == min(5, len(matching))


def test_writes_by_filter(client, name, loaded):
    ids, _, payloads = loaded
    paris = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="Paris"))])
    n_paris = sum(p.get("city") == "Paris" for p in payloads)
    client.set_payload(name, payload={"flag": 1}, points=paris)
    assert client.count(name, count_filter=models.Filter(must=[
        models.FieldCondition(key="flag", match=models.MatchValue(value=1))])).count == n_paris
    client.set_payload(name, payload={"inner": True}, points=paris, key="meta.deep")
    point = client.scroll(name, scroll_filter=paris, limit=1)[0][0]
    assert point.payload["meta"] == {"deep": {"inner": True}}
    client.delete_payload(name, keys=["meta.deep.inner", "reviews[].who"], points=paris)
    point = client.retrieve(name, ids=[point.id])[0]
    assert point.payload["meta"] == {"deep": {}} and all("who" not in r for r in point.payload["reviews"])
    client.clear_payload(name, points_selector=models.FilterSelector(filter=paris))
    assert client.count(name, count_filter=paris).count == 0
    cheap = models.Filter(must=[models.FieldCondition(key="price", range=models.Range(lt=30))])
    n_cheap = client.count(name, count_filter=cheap).count
    assert n_cheap > 0
    client.delete(name, points_selector=models.FilterSelector(filter=cheap))
    assert client.count(name, count_filter=cheap).count == 0
    assert client.count(name).count == len(ids) - n_cheap


def test_facet_and_order_by(client, name, loaded):
    ids, _, payloads = loaded
    facet = client.facet(name, key="city", limit=10)
    counts = {}
    for p in payloads:
        if "city" in p:
            counts[p["city"]] = counts.get(p["city"], 0) + 1
    assert {h.value: h.count for h in facet.hits} == counts
    assert [h.count for h in facet.hits] == sorted(counts.values(), reverse=True)
    cheap = models.Filter(must=[models.FieldCondition(key="price", range=models.Range(lt=50))])
    filtered = client.facet(name, key="city", facet_filter=cheap, limit=2)
    assert len(filtered.hits) == 2
    page, next_offset = client.scroll(name, order_by=models.OrderBy(key="price", direction=models.Direction.DESC), limit=7)
    assert next_offset is None
    assert [p.payload["price"] for p in page] == sorted((p["price"] for p in payloads), reverse=True)[:7]
    assert "index" in expect_status(lambda: client.facet(name, key="tags"), 400)


def test_uuid_index_takes_every_form_qdrant_parses(client, name):
    """A uuid index holds UUIDs in any form Qdrant parses (32 hex digits, 8-4-4-4-12, braced,
    urn:uuid:) and facets report the canonical 8-4-4-4-12 lowercase form, the spellings of
    one UUID counted once per point; `match` compares the strings as written, as reading
    the payloads does. Checked in the mutable segment and again after the optimizer has
    written the points to an indexed segment."""
    import uuid
    import time
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.create_payload_index(name, "u", models.PayloadSchemaType.UUID)
    a, b = uuid.UUID(int=0x0B7E7C5A1A1E4C599B7B6C1F8A3A9D01), uuid.uuid4()
    payloads = {1: {"u": a.hex}, 2: {"u": [str(a), "{" + str(a).upper() + "}"]}, 3: {"u": "urn:uuid:" + str(b)},
                4: {"u": [b.hex, "not a uuid"]}, 5: {"u": 7}}
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload=p) for i, p in payloads.items()])
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(6, 1000)])

    def check():
        assert {h.value: h.count for h in client.facet(name, key="u").hits} == {str(a): 2, str(b): 2}
        for value, ids in [(a.hex, [1]), (str(a), [2]), ("urn:uuid:" + str(b), [3]), (b.hex, [4])]:
            flt = models.Filter(must=[models.FieldCondition(key="u", match=models.MatchValue(value=value))])
            assert sorted(p.id for p in client.scroll(name, scroll_filter=flt)[0]) == ids
    check()
    client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
    deadline = time.time() + 60
    while client.get_collection(name).indexed_vectors_count < 999:
        assert time.time() < deadline, "the optimizer did not index the points"
        time.sleep(0.2)
    check()


@pytest.mark.rest_only
def test_bad_filters_are_refused(server, client, name, loaded):
    import httpx
    for flt, words in [({"must": [{"key": "price", "range": {"gt": "soon"}}]}, "not an RFC 3339 datetime"),
                       ({"must": [{"key": "a", "match": {"value": 1.5}}]}, "filter.must[0].match.value"),
                       ({"mus": []}, "unknown member")]:
        response = httpx.post(f"{server.url}/collections/{name}/points/count", json={"filter": flt})
        assert response.status_code == 400, response.text
        assert words in response.json()["status"]["error"]


def test_grpc_filter_forms(server, client, name, loaded):
    """Filter forms of Qdrant's gRPC API the client's models do not produce: conditions
    without a kind (left out), a field condition's is_empty/is_null flags, datetime
    bounds as timestamps, slices; a field condition without a test is refused."""
    import grpc
    from google.protobuf.timestamp_pb2 import Timestamp
    from qdrant_client import QdrantClient, grpc as g
    ids, _, payloads = loaded
    remote = QdrantClient(url=server.url, grpc_port=server.grpc_port, prefer_grpc=True, timeout=60)

    def count(*must, **options):
        request = g.CountPoints(collection_name=name, filter=g.Filter(must=list(must), **options), exact=True)
        return remote.grpc_points.Count(request).result.count

    assert count(g.Condition()) == len(ids)
    assert count(g.Condition(field=g.FieldCondition(key="city", is_empty=True))) == sum("city" not in p for p in payloads)
    assert count(g.Condition(field=g.FieldCondition(key="note", is_null=True))) == sum(p["note"] is None for p in payloads)
    assert count(g.Condition(field=g.FieldCondition(key="city", is_empty=False))) == sum("city" in p for p in payloads)
    march = Timestamp(seconds=1709251200)  # 2024-03-01T00:00:00Z
    assert count(g.Condition(field=g.FieldCondition(key="created", datetime_range=g.DatetimeRange(gte=march)))) == sum(
        p["created"] >= "2024-03-01" for p in payloads)
    slices = [count(g.Condition(slice=g.SliceCondition(index=k, total=3))) for k in range(3)]
    assert sum(slices) == len(ids) and all(slices)
    for bad in [g.Condition(field=g.FieldCondition(key="city")),
                g.Condition(field=g.FieldCondition(key="city", match=g.Match())),
                g.Condition(slice=g.SliceCondition(index=3, total=3)),
                g.Condition(nested=g.NestedCondition(key="reviews"))]:
        with pytest.raises(grpc.RpcError) as error:
            count(bad)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
    remote.close()
