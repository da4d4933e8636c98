"""Durable ingest through a cluster (issue 16): points/s of `upsert(wait=True)` batches
into collections with replication_factor 1, 2, 3 and write_consistency_factor 1 or 2, on
a `strata cluster local` (etcd ×3, 3 nodes on loopback), next to a single-node
`strata serve` in the same run. Writes go to the collection's primary (the node that
created it), so no request is forwarded; every acknowledged batch is durable
(fdatasync) on write_consistency_factor nodes.

Usage: python Benchmarks/cluster_ingest.py STRATA_BIN [POINTS] [DIM] [BATCH] [HNSW_M]
HNSW_M, when given, creates every collection with `hnsw_config.m` = HNSW_M; 0 builds no
HNSW index, which takes index building (on every replica, all sharing this machine's
cores) out of the measurement and leaves the write and replication path.
Prints one JSON line per configuration, with the rate over all points and over the last
quarter of them (where the WAL file and the collection are largest)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
from qdrant_client import QdrantClient, models


def free_base(count):
    """Free ports base..base+count-1, below Linux's ephemeral range (32768 and up)."""
    import random
    for _ in range(500):
        base = random.randint(10_000, 32_000 - count)
        if all(_free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no free ports")


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_ready(url, timeout=60):
    import httpx
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def ingest(url, name, vectors, batch, hnsw_m=None, **create):
    """Points/s over all points and over the last quarter of them."""
    client = QdrantClient(url=url, timeout=120)
    if hnsw_m is not None:
        create["hnsw_config"] = models.HnswConfigDiff(m=hnsw_m)
    client.create_collection(name, vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.DOT),
                             **create)
    last_quarter = len(vectors) - len(vectors) // 4
    started = time.perf_counter()
    quarter_started = None
    for start in range(0, len(vectors), batch):
        if quarter_started is None and start >= last_quarter:
            quarter_started = (time.perf_counter(), start)
        chunk = vectors[start:start + batch]
        client.upsert(name, wait=True, points=models.Batch(ids=list(range(start, start + len(chunk))),
                                                          vectors=chunk.tolist()))
    ended = time.perf_counter()
    assert client.count(name).count == len(vectors)
    client.close()
    quarter_rate = (len(vectors) - quarter_started[1]) / (ended - quarter_started[0]) if quarter_started else None
    return len(vectors) / (ended - started), quarter_rate


def main():
    binary = sys.argv[1]
    points = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    dim = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    hnsw_m = int(sys.argv[5]) if len(sys.argv) > 5 else None
    vectors = np.random.default_rng(7).standard_normal((points, dim)).astype(np.float32)
    work = tempfile.mkdtemp(prefix="strata-cluster-ingest-")
    results = []

    # Single node, same binary, same machine.
    port = free_base(2)
    single = subprocess.Popen([binary, "serve", "--data-dir", f"{work}/single", "--port", str(port),
                               "--grpc-port", str(port + 1)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        rate, quarter = ingest(f"http://127.0.0.1:{port}", "single", vectors, batch, hnsw_m)
        results.append({"setup": "single node", "replication_factor": 1, "write_consistency_factor": 1,
                        "points_per_s": round(rate), "last_quarter_points_per_s": round(quarter)})
    finally:
        single.send_signal(signal.SIGTERM)
        single.wait()

    base, etcd_base = free_base(30), free_base(6)
    cluster = subprocess.Popen([binary, "cluster", "local", "--nodes", "3", "--etcd-members", "3", "--dir",
                                f"{work}/cluster", "--base-port", str(base), "--etcd-base-port", str(etcd_base)],
                               stdout=open(f"{work}/cluster.out", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while "ready" not in open(f"{work}/cluster.out").read():
            assert time.time() < deadline and cluster.poll() is None, open(f"{work}/cluster.out").read()
            time.sleep(0.2)
        url = f"http://127.0.0.1:{base}"
        for factor, consistency in [(1, 1), (2, 1), (2, 2), (3, 2), (3, 3)]:
            rate, quarter = ingest(url, f"r{factor}w{consistency}", vectors, batch, hnsw_m, replication_factor=factor,
                                   write_consistency_factor=consistency)
            results.append({"setup": "3-node cluster", "replication_factor": factor,
                            "write_consistency_factor": consistency, "points_per_s": round(rate),
                            "last_quarter_points_per_s": round(quarter)})
    finally:
        cluster.send_signal(signal.SIGINT)
        cluster.wait(timeout=120)
    for row in results:
        print(json.dumps({"points": points, "dim": dim, "batch": batch, "hnsw_m": hnsw_m, **row}))


if __name__ == "__main__":
    main()
