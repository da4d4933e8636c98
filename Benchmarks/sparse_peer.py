#!/usr/bin/env python3
"""Exact sparse top-10 (and hybrid dense + sparse RRF) with Qdrant Edge
(qdrant_edge, Qdrant's engine embedded): the peer side of `strata bench sparse`,
on the same data (Benchmarks/sparse_data.py, or a BM25 data set from
Benchmarks/run_bm25.sh: meta.json "modifier": "idf", no dense files).

Usage:
  sparse_peer.py DATA_DIR [--queries N] [--prefetch 20] [--no-hybrid] [--threads 2]

stdout: one JSON line per mode (sparse, sparse-limitP, dense-limitP, hybrid-rrf):
  {"engine":"qdrant-edge","mode":…,"qps":…,"mean_ms":…,"p50_ms":…,"p99_ms":…,
   "recall10":…,"build_s":…,"queries":…,"data":…}

Method (as filtered_peer.py):
  * Shard: EdgeConfig(sparse_vectors {"s": EdgeSparseVectorParams()} (Qdrant's
    defaults: the inverted index is exact; modifier none, or Modifier.Idf when
    meta.json says "modifier": "idf"), and with the hybrid run
    vectors {"d": EdgeVectorParams(size=dim, Dot)} with HnswIndexConfig(m=16,
    ef_construct=100, max_indexing_threads=--threads), max_search_threads=1.
  * Build (build_s, timed): upsert all points in batches of 1000 (numpy -> list
    conversion included), flush(), optimize().
  * Search (timed): QueryRequest(query=Query.Nearest(SparseVector, using="s"),
    limit=10) built before the clock; one whole untimed pass, then every query once,
    one thread, time.perf_counter() around shard.query(). qps = queries / sum of
    latencies; p50/p99 nearest-rank. recall10 against the float64 ground truth;
    recall10_tie_tolerant also counts a hit whose exact float64 score equals the
    10th true score within 1e-6 relative (as strata bench sparse).
  * Hybrid only when the data set has dense files (dense.f32) and not --no-hybrid.
  * Hybrid: Prefetch(dense, limit P) + Prefetch(sparse, limit P), Fusion.Rrf(k=2),
    limit 10; and each prefetch alone with limit P for the sum-of-parts ratio; whole
    passes per mode, twice in turn (sparse, dense, hybrid, sparse, dense, hybrid).
"""
import argparse, json, os, shutil, sys, tempfile, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import edge_build, log, percentile_ms, read_csr  # noqa: E402

K = 10


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--queries", type=int, default=None)
    p.add_argument("--prefetch", type=int, default=20)
    p.add_argument("--no-hybrid", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tmp", default=None)
    a = p.parse_args()
    import qdrant_edge as qe

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    dim = meta.get("dense_dim", 0)
    idf_modifier = meta.get("modifier") == "idf"
    d_ptr, d_idx, d_val = read_csr(a.data, "docs")
    q_ptr, q_idx, q_val = read_csr(a.data, "queries")
    n = len(d_ptr) - 1
    nq = len(q_ptr) - 1 if a.queries is None else min(a.queries, len(q_ptr) - 1)
    gt = np.fromfile(os.path.join(a.data, "gt.i32"), dtype="<i4").reshape(-1, K)
    gt_scores = np.fromfile(os.path.join(a.data, "gt_scores.f64"), dtype="<f8").reshape(-1, K)
    hybrid = not a.no_hybrid and os.path.exists(os.path.join(a.data, "dense.f32"))
    if hybrid:
        dense = np.fromfile(os.path.join(a.data, "dense.f32"), dtype="<f4").reshape(n, dim)
        dense_q = np.fromfile(os.path.join(a.data, "dense_queries.f32"), dtype="<f4").reshape(-1, dim)
    data_name = os.path.basename(os.path.normpath(a.data))

    path = tempfile.mkdtemp(prefix="qe-sparse-", dir=a.tmp)
    cfg = qe.EdgeConfig(
        vectors={"d": qe.EdgeVectorParams(size=dim, distance=qe.Distance.Dot)} if hybrid else None,
        sparse_vectors={"s": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf if idf_modifier else None)},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10000, max_indexing_threads=a.threads) if hybrid else None,
        max_search_threads=1)
    shard = qe.EdgeShard.create(path, cfg)
    try:
        def point(i):
            lo, hi = d_ptr[i], d_ptr[i + 1]
            vec = {"s": qe.SparseVector(indices=d_idx[lo:hi].tolist(), values=d_val[lo:hi].tolist())}
            if hybrid:
                vec["d"] = dense[i].tolist()
            return qe.Point(id=i, vector=vec)
        build_s = edge_build(qe, shard, n, 1000, point)

        def sparse_q(i):
            lo, hi = q_ptr[i], q_ptr[i + 1]
            return qe.SparseVector(indices=q_idx[lo:hi].tolist(), values=q_val[lo:hi].tolist())

        def run(mode, reqs, extra=None):
            for r in reqs[:20]:
                shard.query(r)
            lat, found = [], []
            for r in reqs:
                t = time.perf_counter()
                res = shard.query(r)
                lat.append(time.perf_counter() - t)
                found.append([int(x.id) for x in res])
            row = {"engine": "qdrant-edge", "mode": mode, "data": data_name, "queries": len(reqs),
                   "qps": round(len(reqs) / sum(lat), 1), "mean_ms": round(sum(lat) / len(reqs) * 1000, 3),
                   "p50_ms": round(percentile_ms(lat, 0.5), 3), "p99_ms": round(percentile_ms(lat, 0.99), 3),
                   "build_s": build_s}
            row.update(extra or {})
            return row, found, sum(lat)

        reqs = [qe.QueryRequest(query=qe.Query.Nearest(sparse_q(i), using="s"), limit=K) for i in range(nq)]
        run("sparse", reqs)  # a whole untimed pass first: both engines are measured warm
        row, found, _ = run("sparse", reqs)
        hits = sum(len(set(f) & set(int(x) for x in gt[i] if x >= 0)) for i, f in enumerate(found))
        expected = sum(int((gt[i] >= 0).sum()) for i in range(nq))
        row["recall10"] = round(hits / expected, 4)
        # Tie-tolerant recall: exact float64 scores (with IDF when the modifier is on).
        idf = {}
        if idf_modifier:
            terms, df = np.unique(d_idx, return_counts=True)
            idf = dict(zip(terms.tolist(), np.log((n - df + 0.5) / (df + 0.5) + 1.0).tolist()))

        def exact(qi, doc):
            lo, hi = d_ptr[doc], d_ptr[doc + 1]
            w = dict(zip(d_idx[lo:hi].tolist(), d_val[lo:hi].astype(np.float64).tolist()))
            qlo, qhi = q_ptr[qi], q_ptr[qi + 1]
            return sum(float(v) * (idf.get(t, 0.0) if idf_modifier else 1.0) * w.get(t, 0.0)
                       for t, v in zip(q_idx[qlo:qhi].tolist(), q_val[qlo:qhi].tolist()))
        tolerant = 0
        for i, f in enumerate(found):
            truth = set(int(x) for x in gt[i] if x >= 0)
            if not truth:
                continue
            kth = gt_scores[i, len(truth) - 1]
            tolerant += sum(1 for doc in f if doc in truth or abs(exact(i, doc) - kth) <= 1e-6 * max(1.0, abs(kth)))
        row["recall10_tie_tolerant"] = round(tolerant / expected, 4)
        if idf_modifier:
            row["modifier"] = "idf"
        print(json.dumps(row), flush=True)
        if hybrid:
            P = a.prefetch
            sreqs = [qe.QueryRequest(query=qe.Query.Nearest(sparse_q(i), using="s"), limit=P) for i in range(nq)]
            dreqs = [qe.QueryRequest(query=qe.Query.Nearest(dense_q[i].tolist(), using="d"), limit=P) for i in range(nq)]
            hreqs = [qe.QueryRequest(prefetches=[
                qe.Prefetch(limit=P, query=qe.Query.Nearest(dense_q[i].tolist(), using="d")),
                qe.Prefetch(limit=P, query=qe.Query.Nearest(sparse_q(i), using="s"))],
                query=qe.Fusion.Rrf(k=2), limit=K) for i in range(nq)]
            lats = {"s": [], "d": [], "h": []}
            for _ in range(2):  # whole passes, twice in turn (A B C A B C), as strata bench sparse
                for key, reqs in (("s", sreqs), ("d", dreqs), ("h", hreqs)):
                    for r in reqs[:20]:
                        shard.query(r)
                    for r in reqs:
                        t = time.perf_counter()
                        shard.query(r)
                        lats[key].append(time.perf_counter() - t)

            def summary(mode, lat):
                return {"engine": "qdrant-edge", "mode": mode, "data": data_name, "queries": len(lat),
                        "qps": round(len(lat) / sum(lat), 1), "mean_ms": round(sum(lat) / len(lat) * 1000, 3),
                        "p50_ms": round(percentile_ms(lat, 0.5), 3), "p99_ms": round(percentile_ms(lat, 0.99), 3),
                        "build_s": build_s}
            print(json.dumps(summary(f"sparse-limit{P}", lats["s"])), flush=True)
            print(json.dumps(summary(f"dense-limit{P}", lats["d"])), flush=True)
            row_h = summary("hybrid-rrf", lats["h"])
            row_h["vs_sum_of_parts"] = round(sum(lats["h"]) / (sum(lats["s"]) + sum(lats["d"])), 3)
            print(json.dumps(row_h), flush=True)
    finally:
        shard.close()
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
