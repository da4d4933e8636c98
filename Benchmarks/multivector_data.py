#!/usr/bin/env python3
"""ColBERT-like synthetic multivector data for `strata bench multivector` and
multivector_peer.py.

Usage:
  multivector_data.py OUT_DIR [--docs 20000] [--queries 200] [--dim 64]
                      [--doc-rows 24] [--query-rows 8] [--topics 400] [--seed 1]

Shape (documented in docs/benchmarks.md): late-interaction token embeddings are
unit vectors that cluster by meaning. Here a passage draws 1–3 topics (of
--topics random unit directions); each of its ~Poisson(--doc-rows) rows (at
least 4) is one of its topics plus Gaussian noise (norm ≈ 0.6),
normalised. A query picks one passage's topics (a relevant passage exists) and
draws ~Poisson(--query-rows) rows (at least 2) the same way. Distance: Cosine
(rows unit-norm, so max_sim = Σ over query rows of the best dot product).

Files (little-endian):
  docs.rows (f32 × total_rows × dim), docs.indptr (u64 × docs+1: row starts)
  queries.rows, queries.indptr                      same for queries
  gt.i32 (queries × 10 ids), gt_scores.f64: exact top-10 by max_sim in float64
  (ties to the lower id); meta.json.
"""
import argparse, json, os, time

import numpy as np

K = 10


def draw(rng, topics, count, mean_rows, min_rows, dim, topic_sets=None):
    rows_per = np.maximum(rng.poisson(mean_rows, size=count), min_rows)
    indptr = np.zeros(count + 1, dtype=np.uint64)
    indptr[1:] = np.cumsum(rows_per)
    rows = np.empty((int(indptr[-1]), dim), dtype=np.float32)
    chosen_sets = []
    for i in range(count):
        if topic_sets is None:
            chosen = rng.choice(len(topics), size=int(rng.integers(1, 4)), replace=False)
        else:
            chosen = topic_sets[int(rng.integers(0, len(topic_sets)))]
        chosen_sets.append(chosen)
        n = int(rows_per[i])
        picks = topics[rng.choice(chosen, size=n)]
        block = picks + rng.normal(scale=0.6 / np.sqrt(dim), size=(n, dim))  # noise of norm ≈ 0.6
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        rows[indptr[i]:indptr[i + 1]] = block
    return indptr, rows, chosen_sets


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--docs", type=int, default=20_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--doc-rows", type=float, default=24)
    p.add_argument("--query-rows", type=float, default=8)
    p.add_argument("--topics", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    topics = rng.normal(size=(a.topics, a.dim))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    d_ptr, d_rows, doc_sets = draw(rng, topics, a.docs, a.doc_rows, 4, a.dim)
    q_ptr, q_rows, _ = draw(rng, topics, a.queries, a.query_rows, 2, a.dim, topic_sets=doc_sets)
    # Exact max_sim in float64: per query, dot with every document row, max per document, summed.
    d64 = d_rows.astype(np.float64)
    starts = d_ptr[:-1].astype(np.int64)
    gt = np.full((a.queries, K), -1, dtype=np.int32)
    gt_scores = np.zeros((a.queries, K), dtype=np.float64)
    for q in range(a.queries):
        qr = q_rows[q_ptr[q]:q_ptr[q + 1]].astype(np.float64)
        sims = qr @ d64.T                                   # query rows × all doc rows
        best = np.maximum.reduceat(sims, starts, axis=1)    # query rows × docs
        scores = best.sum(axis=0)
        order = np.lexsort((np.arange(a.docs), -scores))[:K]
        gt[q] = order
        gt_scores[q] = scores[order]
    for name, arr in [("docs.rows", d_rows), ("docs.indptr", d_ptr), ("queries.rows", q_rows), ("queries.indptr", q_ptr),
                      ("gt.i32", gt), ("gt_scores.f64", gt_scores)]:
        arr.tofile(os.path.join(a.out, name))
    meta = dict(docs=a.docs, queries=a.queries, dim=a.dim, distance="Cosine", total_doc_rows=int(d_ptr[-1]),
                mean_doc_rows=float(d_ptr[-1]) / a.docs, mean_query_rows=float(q_ptr[-1]) / a.queries, topics=a.topics,
                seed=a.seed, k=K, seconds=round(time.time() - t0, 1))
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
