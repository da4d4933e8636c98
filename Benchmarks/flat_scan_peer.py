#!/usr/bin/env python3
"""Exact (flat) top-k search with FAISS on a TEXMEX data dir (base.fvecs,
query.fvecs, gt.ivecs, meta.json as written by shared/bench/gen_dataset.py),
the peer of `strata bench scan` on the same data and machine.

Prints one JSON line per mode, in the shape `strata bench scan --json` prints:
  faiss-flat        one query per search() call, single thread: the number to
                    compare with strata's (qps = queries / sum of per-call
                    latencies; p50/p99 over those latencies)
  faiss-flat-batch  all queries in one search() call, still single thread, for
                    information: FAISS then uses a BLAS matrix product (sgemm),
                    which reuses each base vector across many queries and so is
                    no longer bound by streaming the base once per query.
                    p50/p99 are null (there is one call).

Methodology
  * faiss.omp_set_num_threads(1) before anything else.
  * IndexFlatIP for cosine/ip/dot data (gen_dataset.py's embed/uniform kinds are
    unit-length, so inner product is cosine; with --metric cosine both sides are
    re-normalised anyway), IndexFlatL2 for euclid/l2.
  * The base is added once, before the clock; 5 untimed warm-up queries.
  * Each latency is time.perf_counter() around idx.search(q[None, :], k), so it
    includes the Python->C++ call overhead (a few microseconds, <0.1% of a
    100k x 384 scan).
  * recall10 = mean |found top-k ∩ gt top-k| / k against gt.ivecs.
  * "isa" is FAISS's dispatched SIMD level (faiss.SIMDConfig), e.g. AVX512.

Usage: flat_scan_peer.py --data DIR [--queries 1000] [--k 10] [--metric M]
"""
import argparse, json, os, sys, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import percentile_ms, read_vecs  # noqa: E402


def recall(found, gt, k):
    if gt is None:
        return None
    hits = [len(set(found[i, :k].tolist()) & set(gt[i, :k].tolist())) for i in range(found.shape[0])]
    return float(np.mean(hits)) / k


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--metric", help="cosine, dot/ip or euclid/l2 (default: meta.json)")
    p.add_argument("--json", action="store_true", help="accepted for symmetry; output is always JSON lines")
    p.add_argument("--no-batch", action="store_true", help="skip the batched-search line")
    a = p.parse_args()

    import faiss
    faiss.omp_set_num_threads(1)

    meta = json.load(open(os.path.join(a.data, "meta.json")))
    metric = (a.metric or meta["metric"]).lower()
    if metric in ("euclid", "l2"):
        metric_name, make = "Euclid", faiss.IndexFlatL2
    elif metric in ("cosine", "dot", "ip"):
        metric_name, make = ("Cosine" if metric == "cosine" and a.metric else "Dot"), faiss.IndexFlatIP
    else:
        sys.exit(f"unsupported metric {metric}: use cosine, dot/ip or euclid/l2")

    base = read_vecs(os.path.join(a.data, "base.fvecs"))
    queries = read_vecs(os.path.join(a.data, "query.fvecs"), a.queries)
    gt_path = os.path.join(a.data, "gt.ivecs")
    gt = read_vecs(gt_path, a.queries, np.int32) if os.path.exists(gt_path) else None
    if metric_name == "Cosine":
        base, queries = base.copy(), queries.copy()
        faiss.normalize_L2(base)
        faiss.normalize_L2(queries)
    n, dim = base.shape
    nq = queries.shape[0]

    idx = make(dim)
    idx.add(base)
    isa = faiss.SIMDConfig.get_level_name() if hasattr(faiss, "SIMDConfig") else faiss.get_compile_options()

    for i in range(min(5, nq)):
        idx.search(queries[i][None, :], a.k)

    latencies = []
    found = np.empty((nq, a.k), dtype=np.int64)
    for i in range(nq):
        q = queries[i][None, :]
        t0 = time.perf_counter()
        _, ids = idx.search(q, a.k)
        latencies.append(time.perf_counter() - t0)
        found[i] = ids[0]
    line = {"bench": "faiss-flat", "n": n, "dim": dim, "queries": nq, "k": a.k, "metric": metric_name,
            "qps": round(nq / sum(latencies), 1), "p50_ms": round(percentile_ms(latencies, 0.50), 3),
            "p99_ms": round(percentile_ms(latencies, 0.99), 3),
            f"recall{a.k}": None if gt is None else round(recall(found, gt, a.k), 4),
            "isa": isa, "faiss": faiss.__version__, "threads": 1}
    print(json.dumps(line, separators=(",", ":")), flush=True)

    if not a.no_batch:
        t0 = time.perf_counter()
        _, ids = idx.search(queries, a.k)
        elapsed = time.perf_counter() - t0
        line.update({"bench": "faiss-flat-batch", "qps": round(nq / elapsed, 1), "p50_ms": None, "p99_ms": None,
                     f"recall{a.k}": None if gt is None else round(recall(ids, gt, a.k), 4)})
        print(json.dumps(line, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
