#!/usr/bin/env python3
"""Search throughput of Qdrant Edge (qdrant_edge, Qdrant's engine embedded) under
1, 2, 8, 32 concurrent query threads, for comparison with `strata bench search`
(embedded) and wrk against `strata serve` in Benchmarks/run_concurrency.sh.

Method
  * Build: the data set's base vectors upserted in batches of 1000 (Dot, or
    Euclid for euclid data sets; HNSW m 16, ef_construct 100 as in
    shared/bench/peers_bench.py), flush, optimize. Not timed here.
  * Per thread count N: N Python threads, each querying top-10 with the default
    search params (hnsw_ef = ef_construct, as Qdrant and Strata default) over
    the data set's query vectors in turn, for --seconds; every query's latency
    timed. QPS = queries / wall time; p50/p99 over every query.
  * Edge is driven from Python threads, the only way its binding offers: if
    query() holds the GIL, the threads take turns. That is what a Python
    application embedding Edge gets, and the result says so (it is not
    corrected for).
One JSON line per thread count.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np


def read_vecs(path, dtype=np.float32):
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].view(dtype)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--threads", default="1,2,8,32")
    p.add_argument("--seconds", type=float, default=5)
    a = p.parse_args()
    import qdrant_edge as qe

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    base = read_vecs(os.path.join(a.data, "base.fvecs"))
    queries = [q.tolist() for q in read_vecs(os.path.join(a.data, "query.fvecs"))]
    path = tempfile.mkdtemp(prefix="qe-conc-")
    try:
        dist = qe.Distance.Euclid if meta["metric"] == "euclid" else qe.Distance.Dot
        cfg = qe.EdgeConfig(
            vectors={"": qe.EdgeVectorParams(size=base.shape[1], distance=dist)},
            hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10000),
        )
        shard = qe.EdgeShard.create(path, cfg)
        for s in range(0, len(base), 1000):
            points = [qe.Point(id=int(i), vector=base[i].tolist(), payload={}) for i in range(s, min(s + 1000, len(base)))]
            shard.update(qe.UpdateOperation.upsert_points(points))
        shard.flush()
        shard.optimize()
        print(f"qdrant-edge built on {len(base)} points", file=sys.stderr)
        for n in [int(x) for x in a.threads.split(",")]:
            latencies = [[] for _ in range(n)]
            stop = time.perf_counter() + a.seconds

            def worker(k):
                i = k * 37
                mine = latencies[k]
                while True:
                    t = time.perf_counter()
                    if t >= stop:
                        return
                    shard.query(qe.QueryRequest(query=qe.Query.Nearest(queries[i % len(queries)]), limit=10))
                    mine.append(time.perf_counter() - t)
                    i += 1

            start = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            every = np.sort(np.concatenate([np.array(x) for x in latencies if x]))
            print(json.dumps({
                "peer": "qdrant-edge", "threads": n, "queries": len(every), "seconds": round(wall, 3),
                "qps": round(len(every) / wall, 1),
                "p50_ms": round(float(every[len(every) // 2]) * 1000, 3),
                "p99_ms": round(float(every[min(len(every) - 1, int(len(every) * 0.99))]) * 1000, 3),
                "data": os.path.basename(a.data.rstrip("/")),
            }), flush=True)
        shard.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
