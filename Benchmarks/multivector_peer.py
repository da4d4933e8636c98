#!/usr/bin/env python3
"""Multivector (max_sim) top-10 with Qdrant Edge (qdrant_edge, Qdrant's engine
embedded): the peer side of `strata bench multivector`, on the same data
(Benchmarks/multivector_data.py).

Usage:
  multivector_peer.py DATA_DIR [--queries N] [--ef 100] [--threads 2]

stdout: one JSON line per mode (exact, indexed):
  {"engine":"qdrant-edge","mode":…,"qps":…,"mean_ms":…,"p50_ms":…,"p99_ms":…,
   "recall10":…,"build_s":…,"queries":…,"data":…}

Method (as sparse_peer.py):
  * Shard: EdgeConfig(vectors {"m": EdgeVectorParams(size=dim, Cosine,
    multivector_config=MaxSim)}, HnswIndexConfig(m=16, ef_construct=100,
    full_scan_threshold=10000, max_indexing_threads=--threads)),
    max_search_threads=1. Qdrant builds its HNSW graph with max_sim itself.
  * Build (build_s, timed): upsert all points in batches of 200, flush(), optimize().
  * Search (timed, one thread, one query at a time, no payload or vectors): exact
    (SearchParams(exact=True)) and indexed (SearchParams(hnsw_ef=--ef)); one whole
    untimed pass per mode first, then every query once. qps = queries / sum of
    latencies; p50/p99 nearest-rank; recall10 against the float64 ground truth.
"""
import argparse, json, os, shutil, sys, tempfile, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import edge_build, percentile_ms  # noqa: E402

K = 10


def read_rows(d, name, dim):
    indptr = np.fromfile(os.path.join(d, f"{name}.indptr"), dtype="<u8").astype(np.int64)
    rows = np.fromfile(os.path.join(d, f"{name}.rows"), dtype="<f4").reshape(-1, dim)
    return indptr, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--queries", type=int, default=None)
    p.add_argument("--ef", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tmp", default=None)
    a = p.parse_args()
    import qdrant_edge as qe

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    dim, n = meta["dim"], meta["docs"]
    d_ptr, d_rows = read_rows(a.data, "docs", dim)
    q_ptr, q_rows = read_rows(a.data, "queries", dim)
    nq = min(a.queries or meta["queries"], meta["queries"])
    gt = np.fromfile(os.path.join(a.data, "gt.i32"), dtype="<i4").reshape(-1, K)
    data_name = os.path.basename(os.path.normpath(a.data))

    base = tempfile.mkdtemp(dir=a.tmp)
    path = os.path.join(base, "shard")
    os.makedirs(path)
    cfg = qe.EdgeConfig(
        vectors={"m": qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine,
                                          multivector_config=qe.MultiVectorConfig(comparator=qe.MultiVectorComparator.MaxSim))},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10000, max_indexing_threads=a.threads),
        max_search_threads=1)
    shard = qe.EdgeShard.create(path, cfg)
    try:
        build_s = edge_build(qe, shard, n, 200, lambda i: qe.Point(id=i, vector={"m": d_rows[d_ptr[i]:d_ptr[i + 1]].tolist()}))
        queries = [q_rows[q_ptr[i]:q_ptr[i + 1]].tolist() for i in range(nq)]
        for mode, params in (("exact", qe.SearchParams(exact=True)), ("indexed", qe.SearchParams(hnsw_ef=a.ef))):
            reqs = [qe.QueryRequest(query=qe.Query.Nearest(q, using="m"), limit=K, params=params) for q in queries]
            for r in reqs:
                shard.query(r)  # a whole untimed pass
            lat, hits = [], 0
            for i, r in enumerate(reqs):
                t = time.perf_counter()
                res = shard.query(r)
                lat.append(time.perf_counter() - t)
                hits += len(set(int(x.id) for x in res) & set(int(x) for x in gt[i] if x >= 0))
            print(json.dumps({"engine": "qdrant-edge", "mode": mode, "data": data_name, "queries": nq,
                              "qps": round(nq / sum(lat), 1), "mean_ms": round(sum(lat) / nq * 1000, 3),
                              "p50_ms": round(percentile_ms(lat, 0.5), 3), "p99_ms": round(percentile_ms(lat, 0.99), 3),
                              "recall10": round(hits / (nq * K), 4), "build_s": build_s, "ef": a.ef if mode == "indexed" else None}),
                  flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
