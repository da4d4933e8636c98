"""Catch-up speed of a cluster replica (issue 16), on a `strata cluster local` (etcd ×3,
2 nodes on loopback), release build:

1. WAL delta: a collection with replication_factor 2 and write_consistency_factor 1 on
   node-0 (primary) and node-1. node-1 is killed (SIGKILL); RECORDS upserts of BATCH
   points of DIM floats are written through node-0 (one WAL record each); node-1 is
   started again. Measured: from node-1 answering /readyz to its replica being Active
   again (the primary ships the records it lacks): records/s and MB/s of record payload
   (the points' vectors; ids and framing are small).
2. Snapshot transfer: a collection with POINTS points on node-0 only (indexed: the
   optimizer has built its HNSW graph); `replicate_shard` to node-1 with method
   `snapshot`, once no optimization runs (a snapshot waits for one in progress).
   Measured: from the request to the new replica being Active, and the size of the
   archive (the primary's log line "replica filled from a snapshot" names its bytes):
   MB/s.

Usage: python Benchmarks/cluster_catchup.py STRATA_BIN [RECORDS] [POINTS] [DIM] [BATCH]
Prints one JSON line per measurement."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np
from qdrant_client import QdrantClient, models

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_ingest import free_base, wait_ready  # noqa: E402

SECRET = "catchup-benchmark"


def replica_state(url, collection, peer):
    info = httpx.get(f"{url}/collections/{collection}/cluster", timeout=10).json()["result"]
    states = {s["peer_id"]: s["state"] for s in info["remote_shards"]}
    for s in info["local_shards"]:
        states[info["peer_id"]] = s["state"]
    return states.get(peer)


def wait_active(url, collection, peer, timeout=600):
    deadline = time.time() + timeout
    while replica_state(url, collection, peer) != "Active":
        assert time.time() < deadline, f"{collection}: peer {peer} not Active in {timeout} s"
        time.sleep(0.02)


def main():
    binary = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    points = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    dim = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    rng = np.random.default_rng(7)
    work = tempfile.mkdtemp(prefix="strata-catchup-")
    env = {**os.environ, "STRATA_CLUSTER_SECRET": SECRET}
    base, etcd_base = free_base(20), free_base(6)
    out = open(f"{work}/cluster.out", "w")
    cluster = subprocess.Popen([binary, "cluster", "local", "--nodes", "2", "--etcd-members", "3", "--dir",
                                f"{work}/cluster", "--base-port", str(base), "--etcd-base-port", str(etcd_base)],
                               stdout=out, stderr=subprocess.STDOUT, env=env)
    restarted = None
    try:
        deadline = time.time() + 120
        while "ready" not in open(f"{work}/cluster.out").read():
            assert time.time() < deadline and cluster.poll() is None, open(f"{work}/cluster.out").read()
            time.sleep(0.2)
        url0, url1 = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 10}"
        peer1 = httpx.get(f"{url1}/cluster").json()["result"]["peer_id"]
        peer0 = httpx.get(f"{url0}/cluster").json()["result"]["peer_id"]
        client = QdrantClient(url=url0, timeout=300)

        # 1. WAL delta.
        client.create_collection("delta", vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT),
                                 replication_factor=2, write_consistency_factor=1)
        pid = int(subprocess.run(["pgrep", "-f", "--", f"--data-dir {work}/cluster/node-1 "],
                                 capture_output=True, text=True).stdout.split()[0])
        argv = [a.decode() for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if a]
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        for k in range(records):
            vectors = rng.standard_normal((batch, dim)).astype(np.float32)
            client.upsert("delta", wait=True, points=models.Batch(
                ids=list(range(k * batch, (k + 1) * batch)), vectors=vectors.tolist()))
        assert replica_state(url0, "delta", peer1) == "Partial"
        restarted = subprocess.Popen(argv, stdout=open(f"{work}/node-1-restarted.log", "w"),
                                     stderr=subprocess.STDOUT, env=env)
        wait_ready(url1, timeout=120)
        started = time.perf_counter()
        wait_active(url0, "delta", peer1)
        seconds = time.perf_counter() - started
        megabytes = records * batch * dim * 4 / 1e6
        print(json.dumps({"bench": "catch-up wal_delta", "records": records, "points_per_record": batch, "dim": dim,
                          "seconds": round(seconds, 3), "records_per_s": round(records / seconds),
                          "points_per_s": round(records * batch / seconds),
                          "vector_mb_per_s": round(megabytes / seconds, 1)}))

        # 2. Snapshot transfer.
        client.create_collection("snap", vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT))
        for start in range(0, points, 1000):
            vectors = rng.standard_normal((min(1000, points - start), dim)).astype(np.float32)
            client.upsert("snap", wait=True, points=models.Batch(
                ids=list(range(start, start + len(vectors))), vectors=vectors.tolist()))
        # A snapshot waits for an optimization in progress (it holds the collection's
        # maintenance pass): measure the transfer with the optimizer idle.
        deadline = time.time() + 1800
        while True:
            info = client.get_collection("snap")
            running = httpx.get(f"{url0}/collections/snap/optimizations", timeout=10).json()["result"]
            if (info.status == models.CollectionStatus.GREEN and not running["running"]
                    and running["summary"]["queued_optimizations"] == 0):
                break
            assert time.time() < deadline, "the optimizer did not finish"
            time.sleep(0.5)
        started = time.perf_counter()
        assert httpx.post(f"{url0}/collections/snap/cluster", timeout=30, json={"replicate_shard": {
            "shard_id": 0, "from_peer_id": peer0, "to_peer_id": peer1, "method": "snapshot"}}).status_code == 200
        wait_active(url0, "snap", peer1, timeout=1800)
        seconds = time.perf_counter() - started
        log = open(f"{work}/cluster/node-0.log").read()
        sizes = [int(m) for m in re.findall(r'bytes=(\d+)[^\n]*replica filled from a snapshot', log)]
        size = sizes[-1] if sizes else None
        row = {"bench": "catch-up snapshot", "points": points, "dim": dim, "seconds": round(seconds, 3)}
        if size:
            row.update({"archive_mb": round(size / 1e6, 1), "mb_per_s": round(size / 1e6 / seconds, 1)})
        print(json.dumps(row))
        client.close()
    finally:
        if restarted:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=60)
        cluster.send_signal(signal.SIGINT)
        cluster.wait(timeout=120)


if __name__ == "__main__":
    main()
