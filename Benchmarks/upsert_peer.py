#!/usr/bin/env python3
"""Upsert throughput of Qdrant Edge (qdrant_edge, Qdrant's engine embedded) on a
TEXMEX data dir (base.fvecs, optional payload.jsonl, meta.json), for comparison
with Strata's own upsert benchmark on the same data and machine.

One JSON line per (peer, batch, writers):
  points_per_s            points / (first update() call .. last update() returning)
  points_per_s_with_flush points / (first update() call .. final shard.flush() returning)

Methodology
  * A fresh shard directory per run (under --tmp), removed afterwards.
  * Update operations are built from numpy before the clock starts (numpy ->
    list -> qe.Point -> UpdateOperation, i.e. Python-side conversion into the
    Rust structs); its cost is reported separately as prep_s, not in the rate.
  * EdgeConfig as in peers_bench.py's run_qdrant_edge: vectors {"": size, Dot
    (Euclid for euclid data sets)}, HNSW m=16 ef_construct=100
    full_scan_threshold=10000. Optimizers left at their defaults (reported).
  * Qdrant Edge has no background optimizer: update() appends to the WAL and to
    a plain (unindexed) appendable segment; HNSW is built only by an explicit
    shard.optimize(). So points_per_s contains NO index-building work. Each
    line reports indexed_vectors_after_upsert (expected 0) as evidence; pass
    --optimize to also time optimize() and get points_per_s_with_optimize
    (update .. flush .. optimize), the number comparable to an engine that
    indexes on insert.
  * --writers N: N Python threads share one shard, each calling update() on its
    share of the batches. update() does NOT release the GIL (measured: a Python
    thread makes no progress during one update() call), and the shard serialises
    updates on its WAL mutex anyway, so extra writers cannot add parallelism.

Durability of a returned update() (qdrant-edge-py 0.9.0, WAL enabled, default):
  the operation is appended to the WAL's memory-mapped segment file and applied
  to the in-memory/mmap segment; no fsync/msync is issued (strace: 0 sync calls
  during 1000 updates). It therefore survives a process crash (SIGKILL then
  EdgeShard.load() recovers all points via the page cache) but NOT an OS crash
  or power loss. Only shard.flush() (or close()) msyncs the WAL range and the
  segments and fsyncs the directories. The WAL also msyncs a 32 MiB WAL segment
  in a background thread when it rolls over, which the caller does not wait for.
"""
import argparse, json, os, shutil, sys, tempfile, threading, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import read_vecs, read_payloads  # noqa: E402

DURABILITY = ("process-crash durable only: WAL record written to an mmap'd WAL file (page cache), "
              "no fsync/msync per update; OS-crash/power-loss durable only after flush()")




def edge_config(qe, dim, metric, m, efc, threads):
    dist = qe.Distance.Euclid if metric == "euclid" else qe.Distance.Dot
    return qe.EdgeConfig(
        vectors={"": qe.EdgeVectorParams(size=dim, distance=dist)},
        hnsw_config=qe.HnswIndexConfig(m=m, ef_construct=efc, full_scan_threshold=10000,
                                       max_indexing_threads=threads),
    )


def build_ops(qe, base, payloads, batch):
    ops = []
    for s in range(0, len(base), batch):
        e = min(s + batch, len(base))
        pts = [qe.Point(id=i, vector=base[i].tolist(), payload=payloads[i] if payloads else {})
               for i in range(s, e)]
        ops.append(qe.UpdateOperation.upsert_points(pts))
    return ops


def run_once(qe, cfg, ops, writers, tmp, do_optimize):
    path = tempfile.mkdtemp(prefix="qe-upsert-", dir=tmp)
    try:
        shard = qe.EdgeShard.create(path, cfg)
        errors = []
        if writers == 1:
            t0 = time.perf_counter()
            for op in ops:
                shard.update(op)
            t_upd = time.perf_counter()
        else:
            shares = [ops[w::writers] for w in range(writers)]
            start = threading.Barrier(writers + 1)

            def work(share):
                try:
                    start.wait()
                    for op in share:
                        shard.update(op)
                except Exception as e:  # surfaced below
                    errors.append(e)

            ths = [threading.Thread(target=work, args=(sh,)) for sh in shares]
            for th in ths:
                th.start()
            start.wait()
            t0 = time.perf_counter()
            for th in ths:
                th.join()
            t_upd = time.perf_counter()
            if errors:
                raise errors[0]
        shard.flush()
        t_flush = time.perf_counter()
        # outside the clock: check what the upsert phase did
        info = shard.info()
        res = dict(upsert_s=t_upd - t0, flush_s=t_flush - t_upd,
                   indexed_vectors_after_upsert=int(info.indexed_vectors_count),
                   segments_after_upsert=int(info.segments_count),
                   count=int(shard.count(qe.CountRequest(exact=True))))
        if do_optimize:
            t = time.perf_counter()
            shard.optimize()
            res["optimize_s"] = time.perf_counter() - t
            info = shard.info()
            res["indexed_vectors_after_optimize"] = int(info.indexed_vectors_count)
        shard.close()
        return res
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", help="dir with base.fvecs (and meta.json, payload.jsonl)")
    p.add_argument("--batch", default="100,1000", help="points per update() call, comma list")
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--writers", default="1", help="writer threads sharing one shard, comma list (e.g. 1,4,16)")
    p.add_argument("--payload", action="store_true", help="use payload.jsonl objects instead of {}")
    p.add_argument("--optimize", action="store_true", help="also time shard.optimize() (HNSW build) after flush")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=100)
    p.add_argument("--threads", type=int, default=2, help="max_indexing_threads (used only by optimize)")
    p.add_argument("--repeat", type=int, default=1, help="runs per config; median reported, all in 'runs'")
    p.add_argument("--tmp", default=None, help="parent dir for the fresh shard dirs (default: system tmp)")
    a = p.parse_args()

    import qdrant_edge as qe
    try:
        from importlib.metadata import version
        qe_version = version("qdrant-edge-py")
    except Exception:
        qe_version = None

    meta_path = os.path.join(a.data, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    metric = meta.get("metric", "cosine")
    base = read_vecs(os.path.join(a.data, "base.fvecs"), a.points)
    if len(base) < a.points:
        raise SystemExit(f"base.fvecs has only {len(base)} vectors, --points {a.points}")
    payloads = read_payloads(os.path.join(a.data, "payload.jsonl"), a.points) if a.payload else None
    cfg = edge_config(qe, base.shape[1], metric, a.m, a.efc, a.threads)
    opt_cfg = qe.EdgeOptimizersConfig()  # not passed: defaults, listed for the report
    optimizers = {k: getattr(opt_cfg, k) for k in ("deleted_threshold", "vacuum_min_vector_number",
                  "default_segment_number", "max_segment_size", "indexing_threshold", "prevent_unoptimized")}

    for batch in [int(x) for x in a.batch.split(",")]:
        t = time.perf_counter()
        ops = build_ops(qe, base, payloads, batch)
        prep = time.perf_counter() - t
        for writers in [int(x) for x in a.writers.split(",")]:
            runs = [run_once(qe, cfg, ops, writers, a.tmp, a.optimize) for _ in range(a.repeat)]
            for r in runs:
                if r["count"] != len(base):
                    raise SystemExit(f"count {r['count']} != {len(base)} (batch {batch}, writers {writers})")
            runs.sort(key=lambda r: r["upsert_s"])
            r = runs[len(runs) // 2]
            n = len(base)
            row = dict(bench="upsert", peer="qdrant-edge", batch=batch, writers=writers, points=n,
                       points_per_s=round(n / r["upsert_s"], 1),
                       points_per_s_with_flush=round(n / (r["upsert_s"] + r["flush_s"]), 1),
                       durability=DURABILITY,
                       upsert_s=round(r["upsert_s"], 3), flush_s=round(r["flush_s"], 3),
                       prep_s=round(prep, 3),
                       indexed_vectors_after_upsert=r["indexed_vectors_after_upsert"],
                       segments_after_upsert=r["segments_after_upsert"])
            if a.optimize:
                row.update(optimize_s=round(r["optimize_s"], 2),
                           points_per_s_with_optimize=round(n / (r["upsert_s"] + r["flush_s"] + r["optimize_s"]), 1),
                           indexed_vectors_after_optimize=r["indexed_vectors_after_optimize"])
            if a.repeat > 1:
                row["runs"] = [dict(upsert_s=round(x["upsert_s"], 3), flush_s=round(x["flush_s"], 3)) for x in runs]
            row.update(dim=int(base.shape[1]), payload="payload.jsonl" if a.payload else "{}",
                       config=dict(distance="Euclid" if metric == "euclid" else "Dot", m=a.m,
                                   ef_construct=a.efc, full_scan_threshold=10000,
                                   optimizers="defaults (unset): " + json.dumps(optimizers),
                                   wal_enabled=True, background_optimizer=False),
                       gil_released_in_update=False,
                       qdrant_edge_py=qe_version, data=os.path.basename(a.data.rstrip("/")))
            print(json.dumps(row), flush=True)
        del ops


if __name__ == "__main__":
    main()
