#!/usr/bin/env python3
"""SPLADE-like synthetic sparse data set for `strata bench sparse` and sparse_peer.py.

Usage:
  sparse_data.py OUT_DIR [--docs 200000] [--queries 1000] [--vocab 30000]
                 [--doc-nnz 100] [--query-nnz 20] [--zipf 1.0] [--dense-dim 64] [--seed 1]

Shape (documented in docs/benchmarks.md):
  * vocabulary of --vocab terms; term ids are a random permutation of 0..vocab-1
    scattered over [0, 2^31) (hashed-token ids, as BM25/SPLADE pipelines produce);
  * term popularity Zipf(s): term of rank r drawn with p ∝ 1/(r+1)^s;
  * each document draws ~Poisson(--doc-nnz) distinct terms (at least 1), each query
    ~Poisson(--query-nnz) (at least 2), without replacement by popularity;
  * weights as SPLADE's: positive, log-normal(0, 0.5) scaled by a rarity factor
    0.3 + 0.7·log(r+2)/log(vocab+1), so frequent terms weigh less; stored as f32.
  * a dense companion vector per document and query (--dense-dim, Gaussian, unit
    norm) for the hybrid dense + sparse RRF measurement.

Files (little-endian):
  docs.indptr (u64 × docs+1), docs.indices (u32), docs.values (f32)   CSR, indices ascending per row
  queries.indptr / queries.indices / queries.values                 same for queries
  dense.f32 (docs × dim), dense_queries.f32 (queries × dim)
  gt.i32 (queries × 10 ids) and gt_scores.f64: exact top-10 by dot product,
    computed in float64 (ties to the lower id); meta.json.
"""
import argparse, json, os, time

import numpy as np

K = 10


def sample_rows(rng, count, mean_nnz, min_nnz, probs, vocab):
    nnz = np.maximum(rng.poisson(mean_nnz, size=count), min_nnz)
    indptr = np.zeros(count + 1, dtype=np.uint64)
    indptr[1:] = np.cumsum(nnz)
    ranks = np.empty(int(indptr[-1]), dtype=np.int64)
    # Draw with replacement in bulk, then top up rows that lost terms to duplicates.
    cdf = np.cumsum(probs)
    for i in range(count):
        want = int(nnz[i])
        chosen = np.unique(np.searchsorted(cdf, rng.random(want * 2)))
        chosen = np.minimum(chosen, vocab - 1)
        while len(chosen) < want:
            extra = np.minimum(np.searchsorted(cdf, rng.random(want)), vocab - 1)
            chosen = np.unique(np.concatenate([chosen, extra]))
        # Keep `want` of them, chosen uniformly among the distinct draws.
        if len(chosen) > want:
            chosen = np.sort(rng.choice(chosen, size=want, replace=False))
        ranks[indptr[i]:indptr[i + 1]] = chosen
    return indptr, ranks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--docs", type=int, default=200_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--vocab", type=int, default=30_000)
    p.add_argument("--doc-nnz", type=float, default=100)
    p.add_argument("--query-nnz", type=float, default=20)
    p.add_argument("--zipf", type=float, default=1.0)
    p.add_argument("--dense-dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    probs = 1.0 / np.arange(1, a.vocab + 1) ** a.zipf
    probs /= probs.sum()
    term_ids = rng.choice(2 ** 31, size=a.vocab, replace=False).astype(np.uint32)  # rank -> term id
    rarity = (0.3 + 0.7 * np.log(np.arange(a.vocab) + 2) / np.log(a.vocab + 1)).astype(np.float64)

    def rows(count, mean_nnz, min_nnz):
        indptr, ranks = sample_rows(rng, count, mean_nnz, min_nnz, probs, a.vocab)
        values = (rng.lognormal(0.0, 0.5, size=len(ranks)) * rarity[ranks]).astype(np.float32)
        ids = term_ids[ranks]
        # Sort each row by term id (canonical form).
        for i in range(count):
            s, e = int(indptr[i]), int(indptr[i + 1])
            order = np.argsort(ids[s:e], kind="stable")
            ids[s:e] = ids[s:e][order]
            values[s:e] = values[s:e][order]
        return indptr, ids, values

    d_indptr, d_ids, d_vals = rows(a.docs, a.doc_nnz, 1)
    q_indptr, q_ids, q_vals = rows(a.queries, a.query_nnz, 2)
    for name, (indptr, ids, vals) in {"docs": (d_indptr, d_ids, d_vals), "queries": (q_indptr, q_ids, q_vals)}.items():
        indptr.astype("<u8").tofile(os.path.join(a.out, f"{name}.indptr"))
        ids.astype("<u4").tofile(os.path.join(a.out, f"{name}.indices"))
        vals.astype("<f4").tofile(os.path.join(a.out, f"{name}.values"))
    dense = rng.normal(size=(a.docs, a.dense_dim)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    dense_q = rng.normal(size=(a.queries, a.dense_dim)).astype(np.float32)
    dense_q /= np.linalg.norm(dense_q, axis=1, keepdims=True)
    dense.astype("<f4").tofile(os.path.join(a.out, "dense.f32"))
    dense_q.astype("<f4").tofile(os.path.join(a.out, "dense_queries.f32"))
    t_gen = time.time() - t0

    # Exact ground truth: an inverted index over the docs, float64 accumulation.
    order = np.argsort(d_ids, kind="stable")
    doc_of_entry = np.repeat(np.arange(a.docs), np.diff(d_indptr).astype(np.int64))
    post_docs = doc_of_entry[order]
    post_vals = d_vals[order].astype(np.float64)
    sorted_terms = d_ids[order]
    gt = np.full((a.queries, K), -1, dtype=np.int32)
    gt_scores = np.zeros((a.queries, K), dtype=np.float64)
    scores = np.zeros(a.docs, dtype=np.float64)
    touched = np.zeros(a.docs, dtype=bool)
    for qi in range(a.queries):
        s, e = int(q_indptr[qi]), int(q_indptr[qi + 1])
        scores[:] = 0
        touched[:] = False
        for t, w in zip(q_ids[s:e], q_vals[s:e].astype(np.float64)):
            lo = np.searchsorted(sorted_terms, t, side="left")
            hi = np.searchsorted(sorted_terms, t, side="right")
            scores[post_docs[lo:hi]] += w * post_vals[lo:hi]  # one posting per doc and term
            touched[post_docs[lo:hi]] = True
        cand = np.nonzero(touched & (scores != 0))[0]
        best = cand[np.lexsort((cand, -scores[cand]))][:K]
        gt[qi, :len(best)] = best
        gt_scores[qi, :len(best)] = scores[best]
    gt.astype("<i4").tofile(os.path.join(a.out, "gt.i32"))
    gt_scores.astype("<f8").tofile(os.path.join(a.out, "gt_scores.f64"))
    df = np.bincount(np.searchsorted(np.sort(term_ids), d_ids), minlength=a.vocab)
    meta = dict(kind="splade-like", docs=a.docs, queries=a.queries, vocab=a.vocab, doc_nnz_mean=float(np.diff(d_indptr).mean()),
                query_nnz_mean=float(np.diff(q_indptr).mean()), zipf=a.zipf, dense_dim=a.dense_dim, seed=a.seed, k=K,
                postings=int(len(d_ids)), max_df=int(df.max()), terms_used=int((df > 0).sum()),
                generate_s=round(t_gen, 1), ground_truth_s=round(time.time() - t0 - t_gen, 1))
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
