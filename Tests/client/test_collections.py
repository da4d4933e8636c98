"""Collections and aliases through qdrant-client."""
import pytest
from qdrant_client import models

from helpers import expect_status

DISTANCES = [models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN]


@pytest.mark.single_node("a cluster node reports its cluster status as enabled")
def test_service_endpoints(client, server):
    import httpx
    info = client.info()
    assert info.version
    assert httpx.get(f"{server.url}/healthz").text == "healthz check passed"
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert "app_info" in httpx.get(f"{server.url}/metrics").text
    assert httpx.get(f"{server.url}/telemetry").json()["status"] == "ok"
    assert client.cluster_status().status == "disabled"


def test_shard_number_defaults_as_qdrants(client, name):
    """A collection created without shard_number has Qdrant's default: one shard on one
    node, one shard per running node on a cluster (3 here, or --default-shard-number)."""
    import os
    from conftest import TOPOLOGY
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    want = 1 if TOPOLOGY == "single" else int(os.environ.get("STRATA_SHARDS", "3"))
    assert client.get_collection(name).config.params.shard_number == want
    client.upsert(name, wait=True, points=[models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(12)])
    assert client.count(name).count == 12


@pytest.mark.parametrize("distance", DISTANCES)
def test_create_single_vector_collection(client, name, distance):
    assert not client.collection_exists(name)
    assert client.create_collection(name, vectors_config=models.VectorParams(size=8, distance=distance))
    assert client.collection_exists(name)
    info = client.get_collection(name)
    assert info.config.params.vectors.size == 8
    assert info.config.params.vectors.distance == distance
    assert info.points_count == 0
    assert info.payload_schema == {}
    assert name in [c.name for c in client.get_collections().collections]
    assert client.delete_collection(name)
    assert not client.collection_exists(name)
    assert client.delete_collection(name) is False


def test_create_named_vectors_with_every_option(client, name):
    assert client.create_collection(
        name,
        vectors_config={
            "text": models.VectorParams(size=16, distance=models.Distance.COSINE, on_disk=True,
                                        hnsw_config=models.HnswConfigDiff(m=8, ef_construct=64)),
            "image": models.VectorParams(
                size=8, distance=models.Distance.EUCLID,
                quantization_config=models.BinaryQuantization(binary=models.BinaryQuantizationConfig(always_ram=True))),
        },
        hnsw_config=models.HnswConfigDiff(m=32, ef_construct=200, full_scan_threshold=5000, inline_storage=True),
        optimizers_config=models.OptimizersConfigDiff(deleted_threshold=0.3, indexing_threshold=20000, flush_interval_sec=7),
        wal_config=models.WalConfigDiff(wal_capacity_mb=32),
        quantization_config=models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99, always_ram=True)),
        on_disk_payload=True,
    )
    config = client.get_collection(name).config
    vectors = config.params.vectors
    assert set(vectors) == {"text", "image"}
    assert vectors["text"].size == 16 and vectors["text"].distance == models.Distance.COSINE
    assert vectors["text"].hnsw_config.m == 8 and vectors["text"].hnsw_config.ef_construct == 64
    assert vectors["image"].quantization_config.binary.always_ram is True
    assert config.hnsw_config.m == 32 and config.hnsw_config.ef_construct == 200
    assert config.hnsw_config.full_scan_threshold == 5000
    assert config.optimizer_config.deleted_threshold == pytest.approx(0.3)
    assert config.optimizer_config.indexing_threshold == 20000
    assert config.optimizer_config.flush_interval_sec == 7
    assert config.quantization_config.scalar.quantile == pytest.approx(0.99)


@pytest.mark.parametrize("quantization", [
    models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8)),
    models.BinaryQuantization(binary=models.BinaryQuantizationConfig()),
    models.ProductQuantization(product=models.ProductQuantizationConfig(compression=models.CompressionRatio.X16)),
])
def test_create_with_each_quantization(client, name, quantization):
    client.create_collection(name, vectors_config=models.VectorParams(size=32, distance=models.Distance.DOT),
                             quantization_config=quantization)
    reported = client.get_collection(name).config.quantization_config
    assert type(reported) is type(quantization)


def test_binary_quantization_with_a_four_bit_query(client, name):
    np = __import__("numpy")
    time = __import__("time")
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(600, 64)).astype("float32")
    queries = rng.normal(size=(10, 64))

    def overlap_with_exact(collection, query_encoding, encoding=models.BinaryQuantizationEncoding.TWO_BITS):
        client.create_collection(
            collection, vectors_config=models.VectorParams(size=64, distance=models.Distance.COSINE),
            optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10, flush_interval_sec=1),
            quantization_config=models.BinaryQuantization(binary=models.BinaryQuantizationConfig(
                encoding=encoding, query_encoding=query_encoding)))
        reported = client.get_collection(collection).config.quantization_config.binary
        assert reported.query_encoding == query_encoding and reported.encoding == encoding
        client.upsert(collection, points=models.Batch(ids=list(range(600)), vectors=vectors.tolist()))
        deadline = time.time() + 30
        while sum(s.points_count for s in
                  client.get_optimizations(collection, with_=["idle_segments"]).idle_segments) < 600:
            assert time.time() < deadline, "the points never reached an indexed segment"
            time.sleep(0.2)
        # The walk over codes, rescored, against an exact search.
        overlap = 0
        for q in queries:
            exact = {p.id for p in client.query_points(collection, query=q.tolist(), limit=10,
                                                       search_params=models.SearchParams(exact=True)).points}
            walked = {p.id for p in client.query_points(collection, query=q.tolist(), limit=10, search_params=(
                models.SearchParams(hnsw_ef=128, quantization=models.QuantizationSearchParams(oversampling=4)))).points}
            overlap += len(exact & walked)
        return overlap

    four = overlap_with_exact(name, models.BinaryQuantizationQueryEncoding.SCALAR4BITS)
    eight = overlap_with_exact(name + "_8", models.BinaryQuantizationQueryEncoding.SCALAR8BITS)
    binary = overlap_with_exact(name + "_1", models.BinaryQuantizationQueryEncoding.BINARY)
    # Random 64-d data is hard for 2-bit codes: all find most of the exact top 10, and
    # the 4-bit query does about as well as the 8-bit one, better than the binary one.
    assert four >= 80 and eight >= 80 and four >= eight - 5 and four >= binary, (four, eight, binary)
    # 1.5 bits (Qdrant's one_and_half_bits), with an 8-bit and with a binary query.
    half = models.BinaryQuantizationEncoding.ONE_AND_HALF_BITS
    half_eight = overlap_with_exact(name + "_15", models.BinaryQuantizationQueryEncoding.SCALAR8BITS, half)
    half_binary = overlap_with_exact(name + "_15b", models.BinaryQuantizationQueryEncoding.BINARY, half)
    assert half_eight >= 75 and half_eight >= half_binary, (half_eight, half_binary)
    # Unknown encodings are a 400.
    for encoding, status in [({"query_encoding": "scalar2bits"}, 400), ({"encoding": "three_bits"}, 400)]:
        response = __import__("httpx").put(f"{client._client.rest_uri}/collections/{name}_bad", json={
            "vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"binary": encoding}})
        assert response.status_code == status, (encoding, response.text)


def test_duplicate_collection_is_conflict_and_changes_nothing(client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    message = expect_status(
        lambda: client.create_collection(name, vectors_config=models.VectorParams(size=8, distance=models.Distance.EUCLID)),
        409)
    assert "already exists" in message
    assert client.get_collection(name).config.params.vectors.size == 4


def test_missing_collection_is_404_with_qdrant_wording(client):
    message = expect_status(lambda: client.get_collection("no_such_collection"), 404)
    assert message == "Not found: Collection `no_such_collection` doesn't exist!"


@pytest.mark.single_node("replication_factor follows the cluster's rules, not one node's")
def test_update_collection_changes_settings_and_keeps_data(client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[i, 1, 0, 0], payload={"i": i}) for i in range(20)])
    assert client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(deleted_threshold=0.2))
    assert client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(deleted_threshold=0.5, indexing_threshold=50000),
                                    hnsw_config=models.HnswConfigDiff(m=32, ef_construct=200),
                                    quantization_config=models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
                                        type=models.ScalarType.INT8, always_ram=True)))
    config = client.get_collection(name).config
    assert config.optimizer_config.deleted_threshold == pytest.approx(0.5)
    assert config.optimizer_config.indexing_threshold == 50000
    assert (config.hnsw_config.m, config.hnsw_config.ef_construct) == (32, 200)
    assert config.quantization_config.scalar.type == models.ScalarType.INT8
    assert client.update_collection(name, quantization_config=models.Disabled.DISABLED)
    assert client.get_collection(name).config.quantization_config is None
    # The data is untouched and the collection keeps working.
    assert client.count(name).count == 20
    assert client.retrieve(name, ids=[7])[0].payload == {"i": 7}
    client.upsert(name, points=[models.PointStruct(id=100, vector=[1, 1, 1, 1])])
    assert client.count(name).count == 21
    # params as far as one node has them; more replicas than nodes is refused and changes nothing.
    assert client.update_collection(name, collection_params=models.CollectionParamsDiff(
        replication_factor=1, on_disk_payload=True, read_fan_out_factor=0))
    message = expect_status(lambda: client.update_collection(
        name, collection_params=models.CollectionParamsDiff(replication_factor=2)), 400)
    assert "replication_factor" in message
    expect_status(lambda: client.update_collection(
        name, vectors_config={"nope": models.VectorParamsDiff(on_disk=True)}), 400)
    assert client.get_collection(name).config.hnsw_config.m == 32


def test_collection_without_any_vectors(client, name):
    """As Qdrant: neither `vectors` nor `sparse_vectors` gives a collection of payload-only
    points (scroll, count, filters and payload indexes work; a vector query names what is
    missing)."""
    client.create_collection(name)
    params = client.get_collection(name).config.params
    assert not params.vectors and not params.sparse_vectors
    client.upsert(name, points=[models.PointStruct(id=i, vector={}, payload={"n": i}) for i in range(5)])
    flt = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gte=3))])
    assert client.count(name, count_filter=flt).count == 2
    assert [p.payload for p in client.retrieve(name, [4])] == [{"n": 4}]
    expect_status(lambda: client.query_points(name, query=[1.0, 2.0]), 400)


def test_update_collection_changes_sparse_vector_params(client, name):
    client.create_collection(name, vectors_config={}, sparse_vectors_config={
        "text": models.SparseVectorParams(index=models.SparseIndexParams(full_scan_threshold=100))})
    docs = {1: ([1, 2], [1.0, 1.0]), 2: ([2], [1.0]), 3: ([2, 3], [1.0, 2.0])}
    client.upsert(name, points=[models.PointStruct(id=i, vector={"text": models.SparseVector(indices=ix, values=v)})
                                for i, (ix, v) in docs.items()])
    query = models.SparseVector(indices=[1, 2], values=[1.0, 1.0])
    before = {p.id: p.score for p in client.query_points(name, query=query, using="text").points}
    assert before == {1: 2.0, 2: 1.0, 3: 1.0}
    assert client.update_collection(name, sparse_vectors_config={
        "text": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    params = client.get_collection(name).config.params.sparse_vectors["text"]
    assert params.modifier == models.Modifier.IDF and params.index.full_scan_threshold == 100  # the index stays
    after = {p.id: p.score for p in client.query_points(name, query=query, using="text").points}
    # IDF now weighs the rare term 1 above term 2, which every document holds.
    assert after[1] > after[2] and after[2] == pytest.approx(after[3])
    assert after[1] != before[1]
    expect_status(lambda: client.update_collection(
        name, sparse_vectors_config={"nope": models.SparseVectorParams(modifier=models.Modifier.IDF)}), 400)
    assert client.get_collection(name).config.params.sparse_vectors["text"].modifier == models.Modifier.IDF


@pytest.mark.single_node("alias changes are not replicated yet")
def test_aliases_create_rename_delete_and_use(client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    alias = name + "_alias"
    assert client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=alias))])
    assert [(a.alias_name, a.collection_name) for a in client.get_collection_aliases(name).aliases] == [(alias, name)]
    assert (alias, name) in [(a.alias_name, a.collection_name) for a in client.get_aliases().aliases]
    # The alias works wherever a collection name does.
    assert client.count(alias).count == 1
    assert client.query_points(alias, query=[1.0, 0.0]).points[0].id == 1
    renamed = name + "_renamed"
    client.update_collection_aliases(change_aliases_operations=[
        models.RenameAliasOperation(rename_alias=models.RenameAlias(old_alias_name=alias, new_alias_name=renamed))])
    assert [a.alias_name for a in client.get_collection_aliases(name).aliases] == [renamed]
    client.update_collection_aliases(change_aliases_operations=[
        models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=renamed))])
    assert client.get_collection_aliases(name).aliases == []
    expect_status(lambda: client.update_collection_aliases(change_aliases_operations=[
        models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=renamed))]), 404)


def test_collection_metadata_on_create_and_patch(client, name, server):
    """Qdrant 1.16+ `metadata`: set on create, merged by top-level key on PATCH
    (null removes a key), kept across a restart of the collection's config."""
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             metadata={"owner": "search", "model": {"name": "e5", "dim": 2}, "tags": [1, "a"]})
    assert client.get_collection(name).config.metadata == {
        "owner": "search", "model": {"name": "e5", "dim": 2}, "tags": [1, "a"]}
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    assert client.update_collection(name, metadata={"owner": "ranking", "tags": None, "since": 2026})
    assert client.get_collection(name).config.metadata == {
        "owner": "ranking", "model": {"name": "e5", "dim": 2}, "since": 2026}
    # A nested object replaces the key's value as a whole.
    assert client.update_collection(name, metadata={"model": {"name": "e5-large"}})
    assert client.get_collection(name).config.metadata["model"] == {"name": "e5-large"}
    assert client.count(name).count == 1
    # Not an object: refused, nothing changed.
    import httpx
    response = httpx.patch(f"{server.url}/collections/{name}", json={"metadata": [1, 2]})
    assert response.status_code == 400
    assert client.get_collection(name).config.metadata["owner"] == "ranking"


def test_collection_without_metadata_reports_none(client, name):
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert client.get_collection(name).config.metadata is None


def test_max_optimization_threads_takes_a_number_or_auto(client, name):
    # Qdrant's MaxOptimizationThreads: an integer, or the setting "auto" (gRPC: the Auto enum).
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             optimizers_config=models.OptimizersConfigDiff(max_optimization_threads=2))
    assert client.get_collection(name).config.optimizer_config.max_optimization_threads == 2
    assert client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(
        max_optimization_threads=models.MaxOptimizationThreadsSetting.AUTO))
    assert client.get_collection(name).config.optimizer_config.max_optimization_threads is None
