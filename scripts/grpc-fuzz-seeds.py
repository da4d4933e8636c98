#!/usr/bin/env python3
"""Writes the seeds of the gRPC request fuzz target (fuzz/corpus/grpc-request).

Each seed is one byte choosing the RPC (its position among the RPCs of
qdrant.Collections, qdrant.Points and qdrant.Snapshots, in the order of the
.proto files, as GRPCRequestFuzzing.rpcs lists them) followed by a protobuf
message built with qdrant-client's own generated classes: valid requests of
every RPC against the fuzz harness's collection as GRPCRequestFuzzing.reset()
makes it (`fuzz`: an unnamed 4-dim Cosine vector, a 2-dim Dot vector `n`, a
sparse vector `s`, points 1 to 3 with `k` and `n` indexed).

Usage: python scripts/grpc-fuzz-seeds.py [OUT_DIR]   (needs qdrant-client 1.20.0)
"""
import os
import sys

from qdrant_client import grpc as g
from qdrant_client.grpc import collections_service_pb2, points_service_pb2, snapshots_service_pb2

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus",
                                                          "grpc-request")

RPCS = [f"{s.full_name}/{m.name}" for module in (collections_service_pb2, points_service_pb2, snapshots_service_pb2)
        for s in module.DESCRIPTOR.services_by_name.values() for m in s.methods]
assert len(RPCS) == 50, len(RPCS)

C = "fuzz"
pid = lambda n: g.PointId(num=n)
dense = lambda *xs: g.Vector(dense=g.DenseVector(data=list(xs)))
flt = g.Filter(must=[g.Condition(field=g.FieldCondition(key="k", match=g.Match(keyword="a")))],
               should=[g.Condition(field=g.FieldCondition(key="n", range=g.Range(gte=1, lt=5))),
                       g.Condition(has_id=g.HasIdCondition(has_id=[pid(1)]))],
               must_not=[g.Condition(is_empty=g.IsEmptyCondition(key="e"))])
point = g.PointStruct(id=pid(1), vectors=g.Vectors(vectors=g.NamedVectors(vectors={
    "": dense(0.1, 0.2, 0.3, 0.4), "n": dense(1, 2),
    "s": g.Vector(sparse=g.SparseVector(indices=[1, 7], values=[0.5, 0.25]))})),
    payload={"k": g.Value(string_value="a"), "n": g.Value(integer_value=3),
             "l": g.Value(list_value=g.ListValue(values=[g.Value(double_value=1.5), g.Value(bool_value=True)]))})
selector = g.PointsSelector(points=g.PointsIdsList(ids=[pid(1), pid(2)]))
by_filter = g.PointsSelector(filter=flt)
query = g.Query(nearest=g.VectorInput(dense=g.DenseVector(data=[0.1, 0.2, 0.3, 0.4])))

seeds = {
    "qdrant.Collections/Get": [g.GetCollectionInfoRequest(collection_name=C)],
    "qdrant.Collections/List": [g.ListCollectionsRequest()],
    "qdrant.Collections/Create": [g.CreateCollection(
        collection_name="other", vectors_config=g.VectorsConfig(params=g.VectorParams(size=8, distance=g.Distance.Dot)),
        hnsw_config=g.HnswConfigDiff(m=8, ef_construct=50),
        sparse_vectors_config=g.SparseVectorConfig(map={"s": g.SparseVectorParams()}))],
    "qdrant.Collections/Update": [g.UpdateCollection(
        collection_name=C, optimizers_config=g.OptimizersConfigDiff(indexing_threshold=1000))],
    "qdrant.Collections/Delete": [g.DeleteCollection(collection_name="other")],
    "qdrant.Collections/UpdateAliases": [g.ChangeAliases(actions=[g.AliasOperations(
        create_alias=g.CreateAlias(collection_name=C, alias_name="a"))])],
    "qdrant.Collections/ListCollectionAliases": [g.ListCollectionAliasesRequest(collection_name=C)],
    "qdrant.Collections/ListAliases": [g.ListAliasesRequest()],
    "qdrant.Collections/CollectionClusterInfo": [g.CollectionClusterInfoRequest(collection_name=C)],
    "qdrant.Collections/CollectionExists": [g.CollectionExistsRequest(collection_name=C)],
    "qdrant.Collections/UpdateCollectionClusterSetup": [g.UpdateCollectionClusterSetupRequest(collection_name=C)],
    "qdrant.Collections/CreateShardKey": [g.CreateShardKeyRequest(collection_name=C)],
    "qdrant.Collections/DeleteShardKey": [g.DeleteShardKeyRequest(collection_name=C)],
    "qdrant.Collections/ListShardKeys": [g.ListShardKeysRequest(collection_name=C)],
    "qdrant.Points/Upsert": [g.UpsertPoints(collection_name=C, wait=True, points=[point])],
    "qdrant.Points/Delete": [g.DeletePoints(collection_name=C, points=selector), g.DeletePoints(
        collection_name=C, points=by_filter)],
    "qdrant.Points/Get": [g.GetPoints(collection_name=C, ids=[pid(1), g.PointId(uuid="5c56c793-69f3-4fbf-87e6-c4bf54c28c26")], with_payload=g.WithPayloadSelector(enable=True),
                                      with_vectors=g.WithVectorsSelector(enable=True))],
    "qdrant.Points/UpdateVectors": [g.UpdatePointVectors(collection_name=C, points=[g.PointVectors(
        id=pid(1), vectors=g.Vectors(vectors=g.NamedVectors(vectors={"n": dense(3, 4)})))])],
    "qdrant.Points/DeleteVectors": [g.DeletePointVectors(collection_name=C, points_selector=selector,
                                                         vectors=g.VectorsSelector(names=["n"]))],
    "qdrant.Points/SetPayload": [g.SetPayloadPoints(collection_name=C, payload={"x": g.Value(string_value="y")},
                                                    points_selector=selector)],
    "qdrant.Points/OverwritePayload": [g.SetPayloadPoints(collection_name=C, payload={"x": g.Value(integer_value=1)},
                                                          points_selector=by_filter)],
    "qdrant.Points/DeletePayload": [g.DeletePayloadPoints(collection_name=C, keys=["x"], points_selector=selector)],
    "qdrant.Points/ClearPayload": [g.ClearPayloadPoints(collection_name=C, points=selector)],
    "qdrant.Points/CreateFieldIndex": [g.CreateFieldIndexCollection(
        collection_name=C, field_name="k", field_type=g.FieldType.FieldTypeKeyword), g.CreateFieldIndexCollection(
        collection_name=C, field_name="t", field_type=g.FieldType.FieldTypeText, field_index_params=g.PayloadIndexParams(
            text_index_params=g.TextIndexParams(tokenizer=g.TokenizerType.Word, lowercase=True)))],
    "qdrant.Points/DeleteFieldIndex": [g.DeleteFieldIndexCollection(collection_name=C, field_name="k")],
    "qdrant.Points/CreateVectorName": [g.CreateVectorNameRequest(
        collection_name=C, vector_name="v2", dense_config=g.DenseVectorCreationConfig(size=3, distance=g.Distance.Euclid))],
    "qdrant.Points/DeleteVectorName": [g.DeleteVectorNameRequest(collection_name=C, vector_name="n")],
    "qdrant.Points/Search": [g.SearchPoints(collection_name=C, vector=[0.1, 0.2, 0.3, 0.4], limit=3, filter=flt,
                                            with_payload=g.WithPayloadSelector(enable=True))],
    "qdrant.Points/SearchBatch": [g.SearchBatchPoints(collection_name=C, search_points=[
        g.SearchPoints(collection_name=C, vector=[1, 2], vector_name="n", limit=2)])],
    "qdrant.Points/SearchGroups": [g.SearchPointGroups(collection_name=C, vector=[0.1, 0.2, 0.3, 0.4], group_by="k",
                                                       limit=2, group_size=2)],
    "qdrant.Points/Scroll": [g.ScrollPoints(collection_name=C, limit=5, filter=flt), g.ScrollPoints(
        collection_name=C, limit=5, order_by=g.OrderBy(key="n", direction=g.Direction.Desc))],
    "qdrant.Points/Recommend": [g.RecommendPoints(collection_name=C, positive=[pid(1)], limit=3)],
    "qdrant.Points/RecommendBatch": [g.RecommendBatchPoints(collection_name=C, recommend_points=[
        g.RecommendPoints(collection_name=C, positive=[pid(1)], limit=3)])],
    "qdrant.Points/RecommendGroups": [g.RecommendPointGroups(collection_name=C, positive=[pid(1)], group_by="k",
                                                             limit=2, group_size=1)],
    "qdrant.Points/Discover": [g.DiscoverPoints(collection_name=C, target=g.TargetVector(
        single=g.VectorExample(id=pid(1))), limit=3)],
    "qdrant.Points/DiscoverBatch": [g.DiscoverBatchPoints(collection_name=C, discover_points=[g.DiscoverPoints(
        collection_name=C, target=g.TargetVector(single=g.VectorExample(id=pid(1))), limit=3)])],
    "qdrant.Points/Count": [g.CountPoints(collection_name=C, filter=flt, exact=True)],
    "qdrant.Points/UpdateBatch": [g.UpdateBatchPoints(collection_name=C, operations=[
        g.PointsUpdateOperation(upsert=g.PointsUpdateOperation.PointStructList(points=[point])),
        g.PointsUpdateOperation(delete_points=g.PointsUpdateOperation.DeletePoints(points=selector))])],
    "qdrant.Points/Query": [g.QueryPoints(collection_name=C, query=query, limit=3, filter=flt), g.QueryPoints(
        collection_name=C, prefetch=[g.PrefetchQuery(query=query, limit=10), g.PrefetchQuery(
            query=g.Query(nearest=g.VectorInput(sparse=g.SparseVector(indices=[1], values=[1.0]))), using="s")],
        query=g.Query(fusion=g.Fusion.RRF), limit=3), g.QueryPoints(
        collection_name=C, prefetch=[g.PrefetchQuery(query=query, limit=10)], query=g.Query(formula=g.Formula(
            expression=g.Expression(sum=g.SumExpression(sum=[g.Expression(variable="$score"),
                                                              g.Expression(constant=0.5)])))), limit=3)],
    "qdrant.Points/QueryBatch": [g.QueryBatchPoints(collection_name=C, query_points=[
        g.QueryPoints(collection_name=C, query=query, limit=2)])],
    "qdrant.Points/QueryGroups": [g.QueryPointGroups(collection_name=C, query=query, group_by="k", limit=2,
                                                     group_size=2)],
    "qdrant.Points/Facet": [g.FacetCounts(collection_name=C, key="k", limit=5)],
    "qdrant.Points/SearchMatrixPairs": [g.SearchMatrixPoints(collection_name=C, sample=3, limit=2)],
    "qdrant.Points/SearchMatrixOffsets": [g.SearchMatrixPoints(collection_name=C, sample=3, limit=2)],
    "qdrant.Snapshots/Create": [g.CreateSnapshotRequest(collection_name=C)],
    "qdrant.Snapshots/List": [g.ListSnapshotsRequest(collection_name=C)],
    "qdrant.Snapshots/Delete": [g.DeleteSnapshotRequest(collection_name=C, snapshot_name="missing.snapshot")],
    "qdrant.Snapshots/CreateFull": [g.CreateFullSnapshotRequest()],
    "qdrant.Snapshots/ListFull": [g.ListFullSnapshotsRequest()],
    "qdrant.Snapshots/DeleteFull": [g.DeleteFullSnapshotRequest(snapshot_name="missing.snapshot")],
}
assert sorted(seeds) == sorted(RPCS), set(RPCS) ^ set(seeds)
os.makedirs(OUT, exist_ok=True)
for rpc, messages in seeds.items():
    for k, message in enumerate(messages):
        name = rpc.split(".", 1)[1].replace("/", "-") + (f"-{k}" if k else "") + ".bin"
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([RPCS.index(rpc)]) + message.SerializeToString())
print(f"wrote {sum(map(len, seeds.values()))} seeds for {len(seeds)} RPCs to {OUT}")
