"""Strict mode (`strict_mode_config`) through qdrant-client: every limit Strata
enforces, one request within it passes, one over it is refused with Qdrant's
status and message and changes nothing (rate limits: 429)."""
import httpx
from qdrant_client import models

from helpers import expect_status


def refused(call, status=400):
    """Runs `call`, expects Qdrant's error with `status` (or its gRPC code); returns the message."""
    return expect_status(call, status)


def make(client, name, strict, points=4, **create):
    # One shard: on a collection of several shards each shard checks the collection-wide
    # limits (points, storage, batch sizes, rates) against its own part (docs/cluster.md).
    create.setdefault("shard_number", 1)
    client.create_collection(name, vectors_config=create.pop("vectors_config", models.VectorParams(
        size=2, distance=models.Distance.DOT)), **create)
    if points:
        client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload={"color": "red", "n": i})
                                    for i in range(points)])
    assert client.update_collection(name, strict_mode_config=models.StrictModeConfig(enabled=True, **strict))


def test_config_is_reported_persisted_and_merged(client, name, server):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             strict_mode_config=models.StrictModeConfig(enabled=True, max_query_limit=7))
    config = client.get_collection(name).config.strict_mode_config
    assert (config.enabled, config.max_query_limit, config.max_timeout) == (True, 7, None)
    # PATCH: given limits replace, null ones stay.
    assert client.update_collection(name, strict_mode_config=models.StrictModeConfig(
        max_timeout=3, search_max_oversampling=1.5, sparse_config={"s": models.StrictModeSparse(max_length=9)}))
    config = client.get_collection(name).config.strict_mode_config
    assert (config.enabled, config.max_query_limit, config.max_timeout) == (True, 7, 3)
    assert config.search_max_oversampling == 1.5 and config.sparse_config["s"].max_length == 9
    # A collection without strict mode reports it disabled.
    other = name + "_plain"
    client.create_collection(other, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert not client.get_collection(other).config.strict_mode_config.enabled
    raw = httpx.get(f"{server.url}/collections/{name}").json()["result"]["config"]["strict_mode_config"]
    assert raw == {"enabled": True, "max_query_limit": 7, "max_timeout": 3, "search_max_oversampling": 1.5,
                   "sparse_config": {"s": {"max_length": 9}}}


def test_disabled_strict_mode_enforces_nothing(client, name):
    make(client, name, {"max_query_limit": 1})
    assert client.update_collection(name, strict_mode_config=models.StrictModeConfig(enabled=False))
    assert len(client.query_points(name, query=[1.0, 0.0], limit=3).points) == 3


def test_max_collection_vector_size_bytes(client, name):
    # 4-d float16 vectors: 8 bytes each, so a 40-byte limit is reached at 5 points.
    make(client, name, {"max_collection_vector_size_bytes": 40}, points=0,
         vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT, datatype=models.Datatype.FLOAT16))
    assert client.get_collection(name).config.strict_mode_config.max_collection_vector_size_bytes == 40
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0] * 4) for i in range(4)])
    client.upsert(name, points=[models.PointStruct(id=4, vector=[1.0] * 4)])  # 32 bytes < 40: still allowed
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(id=9, vector=[1.0] * 4)]))
    assert message == "Bad request: Max vector storage size limit of 0.000038146973MB reached!"
    message = refused(lambda: client.update_vectors(name, points=[models.PointVectors(id=0, vector=[2.0] * 4)]))
    assert "Max vector storage size limit" in message
    assert client.count(name).count == 5
    assert client.retrieve(name, ids=[0], with_vectors=True)[0].vector == [1.0] * 4
    # Deleting points frees room again.
    client.delete(name, points_selector=models.PointIdsList(points=[0, 1]))
    client.upsert(name, points=[models.PointStruct(id=9, vector=[1.0] * 4)])


def test_max_collection_payload_size_bytes(client, name):
    make(client, name, {"max_collection_payload_size_bytes": 1024 * 1024}, points=0)
    client.upsert(name, points=[models.PointStruct(id=0, vector=[1.0, 0.0], payload={"text": "x" * 600_000})])
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 0.0], payload={"text": "y" * 600_000})])
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(id=2, vector=[1.0, 0.0])]))
    assert message == "Bad request: Max payload storage size limit of 1MB reached!"
    assert client.count(name).count == 2
    # Setting or overwriting payloads is refused too (Qdrant's SetPayload check), and changes nothing.
    message = refused(lambda: client.set_payload(name, payload={"more": 1}, points=[0]))
    assert message == "Bad request: Max payload storage size limit of 1MB reached!"
    refused(lambda: client.overwrite_payload(name, payload={"text": "small"}, points=[1]))
    assert client.retrieve(name, ids=[1])[0].payload["text"] == "y" * 600_000
    # Deleting a point brings it under the limit.
    client.delete(name, points_selector=models.PointIdsList(points=[1]))
    client.upsert(name, points=[models.PointStruct(id=2, vector=[1.0, 0.0])])
    client.set_payload(name, payload={"more": 1}, points=[2])


def test_max_resident_memory_percent(client, name):
    # The server uses far less than 100% of the machine but more than nothing: 100 never refuses,
    # and the smallest limit, 1%, refuses only if the server really holds 1% (so check the refusal's text).
    make(client, name, {"max_resident_memory_percent": 100})
    client.upsert(name, points=[models.PointStruct(id=9, vector=[1.0, 0.0])])
    assert client.get_collection(name).config.strict_mode_config.max_resident_memory_percent == 100
    refused(lambda: client.update_collection(
        name, strict_mode_config=models.StrictModeConfig(max_resident_memory_percent=101)), status=400)


def test_max_query_limit(client, name):
    make(client, name, {"max_query_limit": 3})
    assert len(client.query_points(name, query=[1.0, 0.0], limit=3).points) == 3
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], limit=4))
    assert message == ('Bad request: Limit exceeded 4 > 3 for "limit". '
                       'Help: Reduce the "limit" parameter to or below 3.')
    # Prefetches, scroll, facet and groups (limit × group_size) count too.
    refused(lambda: client.query_points(name, query=[1.0, 0.0], limit=2,
                                        prefetch=models.Prefetch(query=[1.0, 0.0], limit=10)))
    assert len(client.scroll(name, limit=3)[0]) == 3
    refused(lambda: client.scroll(name, limit=4))
    client.create_payload_index(name, "color", models.PayloadSchemaType.KEYWORD)
    assert client.query_points_groups(name, "color", query=[1.0, 0.0], limit=1, group_size=3).groups
    assert "Limit exceeded 4 > 3" in refused(
        lambda: client.query_points_groups(name, "color", query=[1.0, 0.0], limit=2, group_size=2))
    refused(lambda: client.facet(name, "color", limit=4))


def test_max_timeout(client, name):
    make(client, name, {"max_timeout": 2})
    assert client.query_points(name, query=[1.0, 0.0], limit=1, timeout=2).points
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], limit=1, timeout=3))
    assert 'Limit exceeded 3 > 2 for "timeout"' in message
    # Writes too: refused, nothing written.
    refused(lambda: client.upsert(name, points=[models.PointStruct(id=99, vector=[1.0, 1.0])], timeout=3))
    assert client.count(name).count == 4


def test_search_max_hnsw_ef(client, name):
    make(client, name, {"search_max_hnsw_ef": 16})
    assert client.query_points(name, query=[1.0, 0.0], search_params=models.SearchParams(hnsw_ef=16)).points
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], search_params=models.SearchParams(hnsw_ef=17)))
    assert 'Limit exceeded 17 > 16 for "hnsw_ef"' in message


def test_search_allow_exact(client, name):
    make(client, name, {"search_allow_exact": False})
    assert client.query_points(name, query=[1.0, 0.0], search_params=models.SearchParams(exact=False)).points
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], search_params=models.SearchParams(exact=True)))
    assert message == "Bad request: Exact search disabled!. Help: Set exact=false."
    # Count is exact unless asked otherwise (as in Qdrant).
    assert client.count(name, exact=False).count == 4
    refused(lambda: client.count(name))


def test_search_max_oversampling(client, name):
    make(client, name, {"search_max_oversampling": 1.5})
    params = lambda x: models.SearchParams(quantization=models.QuantizationSearchParams(oversampling=x))
    assert client.query_points(name, query=[1.0, 0.0], search_params=params(1.5)).points
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], search_params=params(2.5)))
    assert 'Limit exceeded 2.5 > 1.5 for "oversampling"' in message


def test_search_max_batchsize(client, name):
    make(client, name, {"search_max_batchsize": 2})
    request = models.QueryRequest(query=[1.0, 0.0], limit=1)
    assert len(client.query_batch_points(name, requests=[request] * 2)) == 2
    message = refused(lambda: client.query_batch_points(name, requests=[request] * 3))
    assert 'Limit exceeded 3 > 2 for "search batch size"' in message


def test_upsert_max_batchsize(client, name):
    make(client, name, {"upsert_max_batchsize": 2}, points=0)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, 0.0]) for i in range(2)])
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, 0.0])
                                                          for i in range(10, 13)]))
    assert 'Limit exceeded 3 > 2 for "upsert limit"' in message
    assert client.count(name).count == 2
    message = refused(lambda: client.update_vectors(name, points=[models.PointVectors(id=i, vector=[0.0, 1.0])
                                                                  for i in range(3)]))
    assert 'Limit exceeded 3 > 2 for "update limit"' in message
    assert client.retrieve(name, ids=[0], with_vectors=True)[0].vector == [1.0, 0.0]


def test_max_points_count(client, name):
    make(client, name, {"max_points_count": 3}, points=0)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, 0.0]) for i in range(3)])
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(id=9, vector=[1.0, 0.0])]))
    assert message == "Bad request: Max points count limit of 3 reached!"
    assert client.count(name, exact=True).count == 3


def test_filter_max_conditions_and_condition_max_size(client, name):
    make(client, name, {"filter_max_conditions": 2, "condition_max_size": 2})
    match = lambda key, value: models.FieldCondition(key=key, match=models.MatchValue(value=value))
    two = models.Filter(must=[match("color", "red"), models.Filter(should=[match("n", 1)])])
    assert client.query_points(name, query=[1.0, 0.0], query_filter=two).points is not None
    three = models.Filter(must=[match("color", "red"), models.Filter(should=[match("n", 1), match("n", 2)])])
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], query_filter=three))
    assert message == ("Bad request: Filter condition limit reached (3 > 2). "
                       "Help: Reduce the amount of conditions of your filter.")
    any_of = lambda values: models.Filter(must=[models.FieldCondition(key="n", match=models.MatchAny(any=values))])
    assert client.count(name, count_filter=any_of([1, 2])).count == 2
    message = refused(lambda: client.delete(name, points_selector=models.FilterSelector(filter=any_of([1, 2, 3]))))
    assert message == "Bad request: Condition size limit reached (3 > 2). Help: Reduce the size of your condition."
    assert client.count(name).count == 4


def test_unindexed_filtering_retrieve(client, name):
    make(client, name, {"unindexed_filtering_retrieve": False})
    red = models.Filter(must=[models.FieldCondition(key="color", match=models.MatchValue(value="red"))])
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0], query_filter=red))
    assert message == ('Bad request: Index required but not found for "color" of one of the following types: '
                       '[keyword]. Help: Create an index for this key or use a different filter.')
    refused(lambda: client.scroll(name, scroll_filter=red))
    # Range conditions accept an integer or a float index.
    low = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(lt=2))])
    assert "[float, integer]" in refused(lambda: client.count(name, count_filter=low, exact=False))
    client.create_payload_index(name, "color", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index(name, "n", models.PayloadSchemaType.INTEGER)
    assert len(client.query_points(name, query=[1.0, 0.0], query_filter=red).points) == 4
    assert client.count(name, count_filter=low, exact=False).count == 2
    # group_by needs an index answering `match`.
    refused(lambda: client.query_points_groups(name, "missing", query=[1.0, 0.0]))


def test_unindexed_filtering_update(client, name):
    make(client, name, {"unindexed_filtering_update": False})
    red = models.Filter(must=[models.FieldCondition(key="color", match=models.MatchValue(value="red"))])
    message = refused(lambda: client.delete(name, points_selector=models.FilterSelector(filter=red)))
    assert 'Index required but not found for "color"' in message
    refused(lambda: client.set_payload(name, payload={"x": 1}, points=red))
    assert client.count(name).count == 4
    assert "x" not in client.retrieve(name, ids=[0])[0].payload
    # Reads are not restricted by this flag; by ids needs no index.
    assert len(client.query_points(name, query=[1.0, 0.0], query_filter=red).points) == 4
    client.delete(name, points_selector=models.PointIdsList(points=[3]))
    client.create_payload_index(name, "color", models.PayloadSchemaType.KEYWORD)
    client.delete(name, points_selector=models.FilterSelector(filter=red))
    assert client.count(name).count == 0


def test_multivector_config(client, name):
    make(client, name, {"multivector_config": {"colbert": models.StrictModeMultivector(max_vectors=2)}}, points=0,
         vectors_config={"colbert": models.VectorParams(size=2, distance=models.Distance.DOT,
                                                        multivector_config=models.MultiVectorConfig(
                                                            comparator=models.MultiVectorComparator.MAX_SIM))})
    client.upsert(name, points=[models.PointStruct(id=1, vector={"colbert": [[1.0, 0.0], [0.0, 1.0]]})])
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(
        id=2, vector={"colbert": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})]))
    assert message == "Bad request: Multivector 'colbert' has a limit of 2 vectors, but 3 were provided!"
    assert client.count(name).count == 1


def test_sparse_config(client, name):
    make(client, name, {"sparse_config": {"text": models.StrictModeSparse(max_length=2)}}, points=0,
         vectors_config={}, sparse_vectors_config={"text": models.SparseVectorParams()})
    client.upsert(name, points=[models.PointStruct(id=1, vector={"text": models.SparseVector(indices=[1, 2],
                                                                                             values=[1.0, 1.0])})])
    message = refused(lambda: client.upsert(name, points=[models.PointStruct(
        id=2, vector={"text": models.SparseVector(indices=[1, 2, 3], values=[1.0, 1.0, 1.0])})]))
    assert message == "Bad request: Sparse vector 'text' has a limit of 2 indices, but 3 were provided!"
    assert client.count(name).count == 1


def test_max_payload_index_count(client, name):
    make(client, name, {"max_payload_index_count": 1})
    client.create_payload_index(name, "color", models.PayloadSchemaType.KEYWORD)
    message = refused(lambda: client.create_payload_index(name, "n", models.PayloadSchemaType.INTEGER))
    assert message == ("Bad request: Collection already has the maximum number of payload indices (1). "
                       "Help: Please delete an existing index before creating a new one.")
    assert list(client.get_collection(name).payload_schema) == ["color"]


def test_search_allow_exact_refuses_full_scans_without_a_graph(client, name):
    make(client, name, {"search_allow_exact": False}, hnsw_config=models.HnswConfigDiff(m=0))
    message = refused(lambda: client.query_points(name, query=[1.0, 0.0]))
    assert message == ("Bad request: Request is forbidden because global vector indexing is disabled "
                       "(hnsw_config.m = 0). Help: Use tenant-specific filter, enable global vector indexing or "
                       "enable strict mode `search_allow_exact` option")
    # Scroll and order_by queries do not scan vectors.
    assert len(client.scroll(name)[0]) == 4


def test_read_rate_limit(client, name, server):
    make(client, name, {"read_rate_limit": 4})
    assert client.get_collection(name).config.strict_mode_config.read_rate_limit == 4
    flt = models.Filter(must=[models.FieldCondition(key="color", match=models.MatchValue(value="red"))])
    # A read costs 1 plus its filter's conditions: 2 + 1 + 1 = 4 tokens, the whole bucket.
    assert client.count(name, count_filter=flt).count == 4
    assert client.count(name).count == 4
    assert len(client.scroll(name, limit=2)[0]) == 2
    response = httpx.post(f"{server.url}/collections/{name}/points/count", json={})
    assert response.status_code == 429, response.text
    message = response.json()["status"]["error"]
    assert message.startswith("Rate limiting exceeded: Read rate limit exceeded: Operation requires 1 tokens but only")
    assert int(response.headers["retry-after"]) >= 1
    # Writes are not read-limited.
    client.upsert(name, points=[models.PointStruct(id=9, vector=[1.0, 9.0])])


def test_write_rate_limit(client, name, server):
    make(client, name, {"write_rate_limit": 5})
    points = [models.PointStruct(id=100 + i, vector=[1.0, float(i)]) for i in range(6)]
    message = refused(lambda: client.upsert(name, points=points), status=429)
    assert message == ("Rate limiting exceeded: Write rate limit exceeded, request larger than rate limiter "
                       "capacity, please try to split your request")
    client.upsert(name, points=points[:4])  # 4 of 5 tokens
    response = httpx.put(f"{server.url}/collections/{name}/points",
                         json={"points": [{"id": 200, "vector": [1, 0]}, {"id": 201, "vector": [1, 1]}]})
    assert response.status_code == 429, response.text
    assert "Operation requires 2 tokens" in response.json()["status"]["error"]
    assert client.count(name).count == 8, "the refused write changed nothing"
    # Reads are not write-limited.
    assert client.count(name).count == 8
