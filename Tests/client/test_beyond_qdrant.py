"""What Strata has and Qdrant does not (issue 20), over REST: qdrant-client has no
method for these, so they are raw HTTP calls next to the client's own."""
import httpx
import pytest
from qdrant_client import models

from conftest import TOPOLOGY

pytestmark = pytest.mark.rest_only


def post(server, path, body):
    return httpx.post(f"{server.url}{path}", json=body, timeout=60)


def upsert_op(*points):
    return {"upsert": {"points": [{"id": i, "vector": v, "payload": p} for i, v, p in points]}}


@pytest.mark.single_node("atomic batches answer 501 on a cluster node")
def test_atomic_batch_is_one_write_and_sees_its_own_operations(client, server, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1, 0], payload={"tag": "old"})])
    reply = post(server, f"/collections/{name}/points/batch", {"atomic": True, "operations": [
        upsert_op((2, [0, 1], {"tag": "new"}), (3, [1, 1], {"tag": "new"})),
        # The filter sees the upsert above.
        {"set_payload": {"payload": {"seen": True}, "filter": {"must": [{"key": "tag", "match": {"value": "new"}}]}}},
        # A vector update of a point the batch itself creates.
        {"update_vectors": {"points": [{"id": 3, "vector": [5, 5]}]}},
        {"delete": {"points": [1]}},
    ]})
    assert reply.status_code == 200, reply.text
    results = reply.json()["result"]
    assert len(results) == 4 and len({r["operation_id"] for r in results}) == 1
    assert all(r["status"] == "completed" for r in results)
    records = {r.id: r for r in client.retrieve(name, ids=[1, 2, 3], with_vectors=True)}
    assert sorted(records) == [2, 3]
    assert records[2].payload == {"tag": "new", "seen": True} and records[3].vector == [5, 5]

    # A bad operation anywhere refuses the whole batch: nothing changes, not even operation 0.
    before = client.scroll(name, limit=10, with_vectors=True)[0]
    bad = post(server, f"/collections/{name}/points/batch", {"atomic": True, "operations": [
        {"delete": {"points": [2]}},
        {"update_vectors": {"points": [{"id": 42, "vector": [1, 1]}]}},
    ]})
    assert bad.status_code == 404 and "operation 1 of the atomic batch" in bad.json()["status"]["error"]
    wrong = post(server, f"/collections/{name}/points/batch", {"atomic": True, "operations": [
        {"delete": {"points": [2]}}, upsert_op((9, [1, 2, 3], None))]})
    assert wrong.status_code == 400, wrong.text
    assert client.scroll(name, limit=10, with_vectors=True)[0] == before
    # Without "atomic" (or with false) the batch is Qdrant's: one operation id each.
    plain = post(server, f"/collections/{name}/points/batch", {"atomic": False, "operations": [
        {"delete": {"points": [2]}}, {"delete": {"points": [3]}}]})
    ids = [r["operation_id"] for r in plain.json()["result"]]
    assert ids[0] < ids[1]
    assert client.count(name).count == 0


@pytest.mark.skipif(TOPOLOGY != "cluster", reason="a cluster refuses atomic batches (single-node feature)")
def test_atomic_batch_on_a_cluster_is_501(client, server, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    reply = post(server, f"/collections/{name}/points/batch", {"atomic": True, "operations": [
        upsert_op((1, [1, 0], None))]})
    assert reply.status_code == 501 and "atomic batch" in reply.json()["status"]["error"]
    assert client.count(name).count == 0


@pytest.mark.single_node("renaming a collection answers 501 on a cluster node")
def test_rename_collection_moves_points_and_aliases(client, server, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1], payload={"i": i}) for i in range(1, 6)])
    alias = name + "_alias"
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=alias))])
    new = name + "_renamed"
    reply = post(server, f"/collections/{name}/rename", {"new_name": new})
    assert reply.status_code == 200 and reply.json()["result"] is True, reply.text
    assert not client.collection_exists(name) and client.collection_exists(new)
    assert client.count(new).count == 5
    assert [a.collection_name for a in client.get_aliases().aliases if a.alias_name == alias] == [new]
    assert client.query_points(alias, query=[5, 1], limit=1).points[0].id == 5
    assert httpx.get(f"{server.url}/collections/{name}", timeout=10).status_code == 404

    # Refusals: nothing changes.
    other = name + "_other"
    client.create_collection(other, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert post(server, f"/collections/{new}/rename", {"new_name": other}).status_code == 409
    assert post(server, f"/collections/{new}/rename", {"new_name": alias}).status_code == 409
    assert post(server, f"/collections/{new}/rename", {"new_name": "bad/name"}).status_code in (400, 404)
    assert post(server, f"/collections/{new}/rename", {"name": "x"}).status_code in (400, 422)
    assert post(server, f"/collections/{name}/rename", {"new_name": "x" + name}).status_code == 404
    assert client.count(new).count == 5 and client.count(other).count == 0


@pytest.mark.skipif(TOPOLOGY != "cluster", reason="a cluster refuses renames (single-node feature)")
def test_rename_on_a_cluster_is_501(client, server, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    reply = post(server, f"/collections/{name}/rename", {"new_name": name + "_x"})
    assert reply.status_code == 501, reply.text
    assert client.collection_exists(name)


@pytest.mark.single_node("ttl_config answers 501 on a cluster node")
def test_expiring_points(client, server, name):
    import time
    reply = httpx.put(f"{server.url}/collections/{name}", json={
        "vectors": {"size": 2, "distance": "Dot"}, "ttl_config": {"key": "expires_at"}}, timeout=30)
    assert reply.status_code == 200, reply.text
    info = httpx.get(f"{server.url}/collections/{name}", timeout=10).json()["result"]
    assert info["config"]["ttl_config"] == {"key": "expires_at"}
    client.upsert(name, points=[
        models.PointStruct(id=1, vector=[1, 0], payload={"expires_at": "2001-01-01T00:00:00Z"}),  # long expired
        models.PointStruct(id=2, vector=[0.9, 0], payload={"expires_at": 978307200}),  # the same, in Unix seconds
        models.PointStruct(id=3, vector=[0.8, 0], payload={"expires_at": "2999-01-01T00:00:00Z"}),
        models.PointStruct(id=4, vector=[0.7, 0], payload={"k": "never"}),
    ])
    assert client.count(name).count == 2
    assert sorted(p.id for p in client.scroll(name, limit=10)[0]) == [3, 4]
    assert [r.id for r in client.retrieve(name, ids=[1, 2, 3, 4])] == [3, 4]
    assert [p.id for p in client.query_points(name, query=[1, 0], limit=10).points] == [3, 4]
    assert client.get_collection(name).points_count == 2

    # default_seconds: the expiry is written into the payload; the point disappears when it passes.
    patched = httpx.patch(f"{server.url}/collections/{name}", json={
        "ttl_config": {"key": "expires_at", "default_seconds": 1}}, timeout=30)
    assert patched.status_code == 200, patched.text
    client.upsert(name, points=[models.PointStruct(id=5, vector=[0.6, 0])])
    stamp = client.retrieve(name, ids=[5])[0].payload["expires_at"]
    assert stamp.endswith("Z") and stamp > "2026"
    deadline = time.time() + 10
    while client.count(name).count != 2 and time.time() < deadline:
        time.sleep(0.1)
    assert client.count(name).count == 2 and client.retrieve(name, ids=[5]) == []

    # Bad configs are refused; "Disabled" removes it.
    bad = httpx.patch(f"{server.url}/collections/{name}", json={"ttl_config": {"default_seconds": -1}}, timeout=30)
    assert bad.status_code == 400, bad.text
    off = httpx.patch(f"{server.url}/collections/{name}", json={"ttl_config": "Disabled"}, timeout=30)
    assert off.status_code == 200
    assert "ttl_config" not in httpx.get(f"{server.url}/collections/{name}", timeout=10).json()["result"]["config"]


@pytest.mark.skipif(TOPOLOGY != "cluster", reason="a cluster refuses ttl_config (single-node feature)")
def test_ttl_on_a_cluster_is_501(server, name):
    reply = httpx.put(f"{server.url}/collections/{name}", json={
        "vectors": {"size": 2, "distance": "Dot"}, "ttl_config": {"key": "expires_at"}}, timeout=30)
    assert reply.status_code == 501, reply.text


@pytest.mark.single_node("a query over several collections answers 501 on a cluster node")
def test_query_over_several_collections_merges_exactly(client, server, name):
    import random
    rng = random.Random(7)
    a, b, c = name + "_a", name + "_b", name + "_c"
    points = {}
    for coll in (a, b):
        client.create_collection(coll, vectors_config=models.VectorParams(size=4, distance=models.Distance.EUCLID))
        batch = [models.PointStruct(id=i, vector=[rng.uniform(-1, 1) for _ in range(4)], payload={"i": i, "c": coll})
                 for i in range(60)]
        client.upsert(coll, points=batch)
        points[coll] = batch
    client.create_collection(c, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    query = [0.1, 0.2, -0.3, 0.4]

    def distance(p):
        return sum((x - y) ** 2 for x, y in zip(p.vector, query)) ** 0.5

    # The exact answer: every point of both collections by Euclidean distance, ties by collection order then id.
    everything = sorted(((distance(p), k, p.id, coll) for k, coll in enumerate((a, b)) for p in points[coll]))
    reply = post(server, "/query", {"collections": [a, b], "query": query, "limit": 7, "offset": 3,
                                    "with_payload": True})
    assert reply.status_code == 200, reply.text
    got = reply.json()["result"]["points"]
    assert [(p["collection"], p["id"]) for p in got] == [(coll, i) for _, _, i, coll in everything[3:10]]
    assert all(p["payload"]["c"] == p["collection"] for p in got)
    assert [round(p["score"], 4) for p in got] == [round(d, 4) for d, _, _, _ in everything[3:10]]

    # A filter per collection, and an alias in place of a name.
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=b, alias_name=b + "_alias"))])
    reply = post(server, "/query", {"collections": [a, b + "_alias"], "query": query, "limit": 100, "filter": {
        a: {"must": [{"key": "i", "range": {"lt": 10}}]}, b + "_alias": {"must": [{"key": "i", "range": {"gte": 50}}]}}})
    got = reply.json()["result"]["points"]
    assert sorted((p["collection"], p["id"]) for p in got) == sorted(
        [(a, i) for i in range(10)] + [(b, i) for i in range(50, 60)])
    # Refusals: different vector configs, unknown collection, no collections, an order_by query.
    assert post(server, "/query", {"collections": [a, c], "query": query}).status_code == 400
    assert post(server, "/query", {"collections": [a, name + "_missing"], "query": query}).status_code == 404
    assert post(server, "/query", {"collections": [], "query": query}).status_code == 400
    assert post(server, "/query", {"collections": [a, b], "query": {"order_by": "i"}}).status_code == 400


@pytest.mark.single_node("versions answer 501 on a cluster node")
def test_versions_tags_as_of_reads_and_restore(client, server, name):
    url = f"{server.url}/collections/{name}"
    reply = httpx.put(url, json={"vectors": {"size": 2, "distance": "Dot"},
                                 "versions_config": {"retain_count": 2}}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert httpx.get(url, timeout=10).json()["result"]["config"]["versions_config"] == {"retain_count": 2}
    client.create_payload_index(name, "k", models.PayloadSchemaType.KEYWORD)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1], payload={"k": "old"}) for i in range(1, 4)])
    tag = post(server, f"/collections/{name}/versions", {"name": "before-import"})
    assert tag.status_code == 200, tag.text
    tagged = tag.json()["result"]
    assert tagged["name"] == "before-import" and tagged["op_num"] >= 1 and tagged["time"].endswith("Z")

    # A bad import: new values, a new point, a delete.
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1], payload={"k": "new"}) for i in range(2, 6)])
    client.delete(name, points_selector=models.PointIdsList(points=[1]))
    assert client.count(name).count == 4

    as_of = {"as_of": "before-import"}
    assert post(server, f"/collections/{name}/points/count", as_of).json()["result"]["count"] == 3
    scrolled = post(server, f"/collections/{name}/points/scroll", {**as_of, "with_payload": True}).json()["result"]
    assert [(p["id"], p["payload"]["k"]) for p in scrolled["points"]] == [(1, "old"), (2, "old"), (3, "old")]
    got = post(server, f"/collections/{name}/points", {**as_of, "ids": [1, 5]}).json()["result"]
    assert [p["id"] for p in got] == [1]
    hits = post(server, f"/collections/{name}/points/query", {**as_of, "query": [1, 0], "limit": 10}).json()
    assert [p["id"] for p in hits["result"]["points"]] == [3, 2, 1]
    facet = post(server, f"/collections/{name}/facet", {**as_of, "key": "k"}).json()["result"]["hits"]
    assert facet == [{"value": "old", "count": 3}]
    by_number = post(server, f"/collections/{name}/points/count", {"as_of": tagged["number"]}).json()
    assert by_number["result"]["count"] == 3
    listed = httpx.get(f"{url}/versions", timeout=10).json()["result"]["versions"]
    assert "before-import" in [v.get("name") for v in listed]
    # The telemetry shows what versions hold on disk.
    telemetry = httpx.get(f"{server.url}/telemetry", timeout=10).json()["result"]["collections"]["collections"]
    mine = [c for c in telemetry if c["id"] == name][0]
    assert mine["versions"] == len(listed) and mine["bytes_only_versions_hold"] >= 0

    # Outside the retained range: 400 naming it; writes never see a version.
    missing = post(server, f"/collections/{name}/points/count", {"as_of": "no-such-tag"})
    assert missing.status_code == 400 and "retains versions" in missing.json()["status"]["error"]
    early = post(server, f"/collections/{name}/points/count", {"as_of": "2001-01-01T00:00:00Z"})
    assert early.status_code == 400

    # Rollback: one logged write back to the tagged state.
    restored = httpx.post(f"{url}/versions/before-import/restore", timeout=30)
    assert restored.status_code == 200, restored.text
    records = client.scroll(name, limit=10, with_payload=True)[0]
    assert [(r.id, r.payload["k"]) for r in records] == [(1, "old"), (2, "old"), (3, "old")]
    assert httpx.delete(f"{url}/versions/before-import", timeout=10).json()["result"] is True
    assert httpx.delete(f"{url}/versions/before-import", timeout=10).status_code == 404
    assert post(server, f"/collections/{name}/points/count", as_of).status_code == 400


@pytest.mark.skipif(TOPOLOGY != "cluster", reason="a cluster refuses versions (single-node feature)")
def test_versions_on_a_cluster_are_501(client, server, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert post(server, f"/collections/{name}/versions", {"name": "v1"}).status_code == 501
    assert post(server, f"/collections/{name}/points/count", {"as_of": "v1"}).status_code == 501
    assert post(server, "/query", {"collections": [name], "query": [1, 0]}).status_code == 501
