#!/usr/bin/env python3
"""Exact BM25 top-10 for a data set encoded by `strata bench bm25-encode`.

Usage: bm25_ground_truth.py DATA_DIR

Reads docs.* and queries.* (CSR, as sparse_data.py writes them) and computes, in
float64, the score the engines compute with `modifier: idf`: for each query term t,
query weight × idf(t) × document weight, where idf(t) = ln((N − n + 0.5)/(n + 0.5) + 1)
(Qdrant's formula; N = number of documents, n = documents holding t, over all
documents — nothing is deleted). Documents with score 0 are not results; ties go to
the lower id. An inverted index (term-sorted postings) is scanned per query term;
no dense matrix. Writes gt.i32 (queries × 10, −1 padded) and gt_scores.f64, and adds
ground_truth_s and queries_with_tie_at_10 (10th and 11th scores equal within 1e-6
relative) to meta.json.
"""
import json, os, sys, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import read_csr  # noqa: E402

K = 10


def main():
    d = sys.argv[1]
    t0 = time.time()
    d_ptr, d_idx, d_val = read_csr(d, "docs")
    q_ptr, q_idx, q_val = read_csr(d, "queries")
    n_docs, n_q = len(d_ptr) - 1, len(q_ptr) - 1
    order = np.argsort(d_idx, kind="stable")
    post_docs = np.repeat(np.arange(n_docs), np.diff(d_ptr))[order]
    post_vals = d_val[order].astype(np.float64)
    sorted_terms = d_idx[order]
    gt = np.full((n_q, K), -1, dtype=np.int32)
    gt_scores = np.zeros((n_q, K), dtype=np.float64)
    scores = np.zeros(n_docs, dtype=np.float64)
    ties = 0
    for qi in range(n_q):
        s, e = q_ptr[qi], q_ptr[qi + 1]
        scores[:] = 0
        touched = []
        for t, w in zip(q_idx[s:e], q_val[s:e].astype(np.float64)):
            lo = np.searchsorted(sorted_terms, t, side="left")
            hi = np.searchsorted(sorted_terms, t, side="right")
            df = hi - lo
            if df == 0:
                continue
            idf = np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)
            scores[post_docs[lo:hi]] += w * idf * post_vals[lo:hi]  # one posting per doc and term
            touched.append(post_docs[lo:hi])
        if not touched:
            continue
        cand = np.unique(np.concatenate(touched))
        cand = cand[scores[cand] != 0]
        ranked = cand[np.lexsort((cand, -scores[cand]))]
        best = ranked[:K]
        if len(ranked) > K and abs(scores[ranked[K]] - scores[ranked[K - 1]]) <= 1e-6 * max(1.0, scores[ranked[K - 1]]):
            ties += 1
        gt[qi, :len(best)] = best
        gt_scores[qi, :len(best)] = scores[best]
    gt.astype("<i4").tofile(os.path.join(d, "gt.i32"))
    gt_scores.astype("<f8").tofile(os.path.join(d, "gt_scores.f64"))
    meta_path = os.path.join(d, "meta.json")
    meta = json.load(open(meta_path))
    meta["ground_truth_s"] = round(time.time() - t0, 1)
    # Queries whose 10th and 11th scores tie (within float32 rounding): there, strict
    # recall depends on tie-breaking and float32 summation order.
    meta["queries_with_tie_at_10"] = ties
    json.dump(meta, open(meta_path, "w"), indent=1, sort_keys=True)
    print(json.dumps({"queries": n_q, "docs": n_docs, "ground_truth_s": meta["ground_truth_s"], "queries_with_tie_at_10": ties,
                      "queries_with_fewer_than_10": int((gt[:, -1] < 0).sum())}))


if __name__ == "__main__":
    main()
