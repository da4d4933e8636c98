"""Shared by the peer scripts: readers for the data layouts (shared/bench/gen_dataset.py,
Benchmarks/sparse_data.py), logging, latency percentiles and Qdrant Edge's timed build."""
import json
import os
import sys
import time

import numpy as np


def log(obj):
    """A progress line (a dict as JSON) on stderr; stdout carries only results."""
    print(json.dumps(obj) if not isinstance(obj, str) else obj, file=sys.stderr, flush=True)


def percentile_ms(latencies, p):
    """Nearest-rank percentile in milliseconds, as strata bench computes it."""
    s = sorted(latencies)
    rank = max(0, int(np.ceil(p * len(s))) - 1)
    return s[min(rank, len(s) - 1)] * 1000


def read_csr(d, name):
    """CSR sparse rows: NAME.indptr (u64), NAME.indices (u32), NAME.values (f32)."""
    indptr = np.fromfile(os.path.join(d, f"{name}.indptr"), dtype="<u8").astype(np.int64)
    indices = np.fromfile(os.path.join(d, f"{name}.indices"), dtype="<u4")
    values = np.fromfile(os.path.join(d, f"{name}.values"), dtype="<f4")
    return indptr, indices, values


def edge_build(qe, shard, n, batch, make_point):
    """Upserts points 0..<n (make_point(i)) into a Qdrant Edge shard in batches, then
    flush() and optimize(); logs and returns build seconds (all of it timed)."""
    t0 = time.perf_counter()
    for s in range(0, n, batch):
        shard.update(qe.UpdateOperation.upsert_points([make_point(i) for i in range(s, min(s + batch, n))]))
    t_up = time.perf_counter()
    shard.flush()
    shard.optimize()
    build_s = round(time.perf_counter() - t0, 2)
    info = shard.info()
    log(dict(stage="build", peer="qdrant-edge", n=n, upsert_s=round(t_up - t0, 2), build_s=build_s,
             segments=int(info.segments_count), points=int(info.points_count)))
    return build_s


def read_vecs(path, n=None, dtype=np.float32):
    """TEXMEX .fvecs/.ivecs: each row is int32 d followed by d 4-byte values."""
    raw = np.memmap(path, dtype=np.int32, mode="r")
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    if n is not None:
        rows = rows[:n]
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def read_payloads(path, n):
    """The first n objects of payload.jsonl."""
    out = []
    with open(path) as f:
        for line in f:
            if len(out) == n:
                break
            out.append(json.loads(line))
    if len(out) < n:
        raise SystemExit(f"{path}: only {len(out)} payloads, need {n}")
    return out
