"""`GET /collections/{c}/optimizations` and the issues API through qdrant-client."""
import time

import httpx
from qdrant_client import models


def test_optimizations_report_finished_flushes_with_progress(client, name):
    # One shard: the report below is one shard's optimizer (each shard has its own).
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             optimizers_config=models.OptimizersConfigDiff(flush_interval_sec=1), shard_number=1)
    report = client.get_optimizations(name)
    assert report.running == [] and report.queued is None and report.completed is None
    assert report.summary.queued_optimizations == 0
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)]) for i in range(20)])
    deadline = time.time() + 20
    while True:
        report = client.get_optimizations(name, with_=["queued", "completed", "idle_segments"])
        if report.completed:
            break
        assert time.time() < deadline, "the interval flush never showed up"
        time.sleep(0.2)
    done = report.completed[0]
    assert done.optimizer == "indexing" and done.status == "done"
    assert [s.points_count for s in done.segments] == [20]
    assert done.progress.finished_at is not None and done.progress.duration_sec >= 0
    assert [c.name for c in done.progress.children] == ["collect points", "build indexes and write segment", "publish"]
    write = done.progress.children[1]
    assert (write.done, write.total) == (20, 20)
    assert report.queued == [] and len(report.idle_segments) == 1 and report.idle_segments[0].points_count == 20
    assert report.summary.idle_segments == 1
    limited = client.get_optimizations(name, with_="completed", completed_limit=0)
    assert limited.completed == []


def test_optimizations_of_unknown_collection_and_bad_parameters(client, server, name):
    assert httpx.get(f"{server.url}/collections/{name}/optimizations").status_code == 404
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    response = httpx.get(f"{server.url}/collections/{name}/optimizations", params={"with": "everything"})
    assert response.status_code == 400


def test_issues_list_and_clear(client, server):
    # A healthy server has none (a failing background flush or merge would be one per collection).
    assert httpx.get(f"{server.url}/issues").json()["result"] == {"issues": []}
    assert client.http.beta_api.get_issues() is not None
    assert client.http.beta_api.clear_issues().result is True
