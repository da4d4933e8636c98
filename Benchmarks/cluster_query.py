"""Query QPS of a collection of 3 shards against the same data on one node (issue 16),
in one run on this machine, release build:

- `single`: one `strata serve`, one collection.
- `cluster-1-shard`: a `strata cluster local` of 3 nodes (etcd ×3), the collection with
  shard_number 1 and replication_factor 1: requests sent to the node holding it, so no
  routing happens (the cluster's own overhead only).
- `cluster-3-shards`: the same cluster, shard_number 3, replication_factor 1 (one shard per
  node): every query goes through the shard router of the node it is sent to, which asks
  each shard for the top k and merges.

The data is a data set of shared/bench/gen_dataset.py (fvecs, exact ground truth), first
POINTS points; ground truth is recomputed for that prefix. Each configuration is loaded,
waited on until its optimizer is idle (HNSW built on every shard), then queried by
CLIENTS concurrent clients for SECONDS seconds over REST with top-10 searches (default
HNSW parameters, m 16, ef_construct 100). Reported: QPS, p50/p99 latency, recall@10 (3
shards search three smaller graphs, each with the same ef, so their merged top 10 is at
least as good as one graph's). On one 2-core machine
the three nodes share the cores a single node has alone; on N machines each shard has its own.

Usage: python Benchmarks/cluster_query.py STRATA_BIN DATA_DIR [POINTS] [CLIENTS] [SECONDS]
Prints one JSON line per configuration."""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_ingest import free_base, wait_ready  # noqa: E402

SECRET = "query-benchmark"


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].copy().view(dtype)


def load(url, name, base, **create):
    body = {"vectors": {"size": base.shape[1], "distance": "Cosine"}, **create}
    response = httpx.put(f"{url}/collections/{name}", json=body, timeout=120)
    assert response.status_code == 200, response.text
    with httpx.Client(timeout=300) as client:
        for start in range(0, len(base), 1000):
            chunk = base[start:start + 1000]
            response = client.put(f"{url}/collections/{name}/points?wait=true", json={
                "batch": {"ids": list(range(start, start + len(chunk))), "vectors": chunk.tolist()}})
            assert response.status_code == 200, response.text
    # Wait until every shard's optimizer is idle and the collection is green.
    deadline = time.time() + 1800
    while True:
        info = httpx.get(f"{url}/collections/{name}", timeout=30).json()["result"]
        report = httpx.get(f"{url}/collections/{name}/optimizations", timeout=30).json()["result"]
        busy = report["summary"]["queued_optimizations"] + len(report["running"])
        if info["status"] == "green" and busy == 0 and info["points_count"] == len(base):
            return
        assert time.time() < deadline, "the optimizer never finished"
        time.sleep(1)


def measure(url, name, queries, truth, clients, seconds):
    latencies = []
    found = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(offset):
        with httpx.Client(timeout=60) as client:
            i = offset
            while time.time() < stop:
                q = i % len(queries)
                started = time.perf_counter()
                response = client.post(f"{url}/collections/{name}/points/search",
                                       json={"vector": queries[q].tolist(), "limit": 10})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                ids = [p["id"] for p in response.json()["result"]]
                with lock:
                    latencies.append(elapsed)
                    found.append(len(set(ids) & set(truth[q][:10].tolist())) / 10)
                i += clients

    began = time.time()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.time() - began
    latencies.sort()
    return {
        "qps": round(len(latencies) / wall, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "recall@10": round(float(np.mean(found)), 4),
        "queries": len(latencies),
    }


def main():
    binary, data = sys.argv[1], sys.argv[2]
    points = int(sys.argv[3]) if len(sys.argv) > 3 else 50_000
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 30
    base = read_vecs(os.path.join(data, "base.fvecs"), np.float32)[:points]
    queries = read_vecs(os.path.join(data, "query.fvecs"), np.float32)[:200]
    normalized = base / np.linalg.norm(base, axis=1, keepdims=True)
    truth = np.argsort(-(queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ normalized.T, axis=1)[:, :10]
    work = tempfile.mkdtemp(prefix="strata-cluster-query-")
    results = []

    port = free_base(2)
    single = subprocess.Popen([binary, "serve", "--data-dir", os.path.join(work, "single"), "--port", str(port),
                               "--grpc-port", str(port + 1)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        load(url, "q", base)
        results.append({"config": "single", **measure(url, "q", queries, truth, clients, seconds)})
        print(json.dumps(results[-1]), flush=True)
    finally:
        single.send_signal(signal.SIGTERM)
        single.wait(timeout=60)

    base_port = free_base(30)
    out = open(os.path.join(work, "cluster.out"), "w")
    cluster = subprocess.Popen(
        [binary, "cluster", "local", "--nodes", "3", "--etcd-members", "3", "--dir", os.path.join(work, "cluster"),
         "--base-port", str(base_port), "--etcd-base-port", str(free_base(6))],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "STRATA_CLUSTER_SECRET": SECRET})
    try:
        deadline = time.time() + 120
        while "ready" not in open(os.path.join(work, "cluster.out")).read():
            assert time.time() < deadline and cluster.poll() is None, "the cluster did not start"
            time.sleep(0.2)
        url = f"http://127.0.0.1:{base_port}"
        for config, create in [("cluster-1-shard", {"shard_number": 1}), ("cluster-3-shards", {"shard_number": 3})]:
            name = config.replace("-", "_")
            load(url, name, base, replication_factor=1, **create)
            results.append({"config": config, **measure(url, name, queries, truth, clients, seconds)})
            print(json.dumps(results[-1]), flush=True)
            httpx.delete(f"{url}/collections/{name}", timeout=120)
    finally:
        cluster.send_signal(signal.SIGINT)
        cluster.wait(timeout=120)
    ratio = results[2]["qps"] / results[0]["qps"]
    print(json.dumps({"points": points, "clients": clients, "seconds": seconds,
                      "qps_3_shards_vs_single": round(ratio, 3)}), flush=True)


if __name__ == "__main__":
    main()
