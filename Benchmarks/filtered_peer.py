#!/usr/bin/env python3
"""Filtered top-10 search with Qdrant Edge (qdrant_edge, Qdrant's engine embedded):
the peer side of `strata bench filtered`, on the same data, field indexes and filters.

Usage:
  filtered_peer.py DATA_DIR [--filters Benchmarks/filtered_filters.json] [--ef 64,128]
                   [--queries N] [--m 16 --efc 100] [--threads 2] [--gt-out FILE]

DATA_DIR is a gen_dataset.py directory (base.fvecs, query.fvecs, meta.json,
payload.jsonl; gt.ivecs is not used: the filtered ground truth is computed here).
The filter file holds `indexes` (Qdrant create-field-index shapes: field_name +
field_schema) and `filters` (name + Qdrant filter JSON).

stdout: one JSON line per (filter, ef):
  {"peer":"qdrant-edge","filter":…,"selectivity":…,"ef":…,"recall10":…,"qps":…,
   "p50_ms":…,"p99_ms":…,"build_s":…, then "matching","queries","data"}
stderr: progress and diagnostic JSON lines ("build", "exact_check", "links").

Method
  * Shard: EdgeConfig(vectors {"": size, Dot for cosine/ip data, Euclid for
    euclid/l2}, HnswIndexConfig(m, ef_construct, full_scan_threshold=10000 (KB,
    Qdrant's default; 6,666 points at 384-d f32), max_indexing_threads=--threads),
    max_search_threads=1). As in shared/bench/peers_bench.py, cosine data are
    searched with Dot: gen_dataset.py writes unit vectors (checked here; if they are
    not, both sides are normalised first). Optimizers at their defaults.
  * Build (build_s, timed): create the field indexes on the empty shard
    (UpdateOperation.create_field_index), upsert all points with their payloads in
    batches of 1000 (numpy -> list conversion included, as in peers_bench.py),
    flush(), optimize(). The indexes exist before optimize(), so the HNSW build
    adds Qdrant's payload-aware ("filterable HNSW") links for every indexed field
    with enable_hnsw (the default): per payload block (a keyword value, a numeric
    range, a bool value) a subgraph among the block's points, merged into the main
    graph (in Qdrant's source: blocks of at least full_scan_threshold points and at
    most ~4 x n / mean level-0 degree; fields after the first are skipped where the
    main graph is already connected enough among the block's points). --payload-links off creates the same indexes
    with enable_hnsw=false (no extra links), for the ablation. The "links" stderr
    line gives the graph files' sizes for comparing the two.
  * Ground truth (not timed): each filter is evaluated in Python on payload.jsonl
    (must / should / must_not lists, nested filters, match value / any / except,
    range gt / gte / lt / lte; a missing key never matches, bool only matches
    bool), then exact top-10 by float64 inner product (or -squared L2) among the
    matching points, ties to the lower id. recall10 = mean over queries of
    |found ∩ gt| / |gt| (|gt| = min(10, matching)). The first --check queries
    per filter are also run through Qdrant's exact filtered search
    (SearchParams(exact=True)) and compared id for id ("exact_check" line).
  * Search (timed): per (filter, ef) the QueryRequests (Query.Nearest, filter,
    limit 10, SearchParams(hnsw_ef=ef), no payload, no vector) are built before
    the clock; 5 untimed warm-up queries; then every query once, one thread,
    time.perf_counter() around each shard.query(). qps = queries / sum of
    latencies; p50/p99 nearest-rank over those latencies (as flat_scan_peer.py).
  * Qdrant chooses the strategy per segment and query: if the filter's estimated
    cardinality is below full_scan_threshold (in points) it scores the payload
    index's matches exactly (recall 1, ef ignored); if above, it walks the HNSW
    graph with the filter; in between it samples. So the low-selectivity filters
    measure Qdrant's payload-index scan, not its graph. Its filtered graph walk does
    not expand through non-matching points, which is why it needs the payload links
    (compare --payload-links off). --acorn enables Qdrant's ACORN walk (two-hop
    expansion) for filters up to its default max_selectivity; off by default, as in
    Qdrant.
"""
import argparse, glob, json, os, shutil, sys, tempfile, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import log, percentile_ms, read_vecs, read_payloads  # noqa: E402

K = 10


# --------------------------------------------------------------------------------------
# Filters: Qdrant filter JSON -> Python predicate (ground truth) and -> qdrant_edge objects

def _values(payload, key):
    """The values at `key` (a flat key; arrays are matched element-wise, as Qdrant does)."""
    if key not in payload or payload[key] is None:
        return []
    v = payload[key]
    return v if isinstance(v, list) else [v]


def _same_kind(a, b):
    # Qdrant keeps bool, integer and string apart: MatchValue(true) never matches 1.
    return isinstance(a, bool) == isinstance(b, bool) and isinstance(a, str) == isinstance(b, str)


def _eq(a, b):
    return _same_kind(a, b) and a == b


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def condition_matches(cond, payload):
    if any(k in cond for k in ("must", "should", "must_not")):
        return filter_matches(cond, payload)
    key = cond.get("key")
    if key is None:
        raise SystemExit(f"unsupported condition {cond}")
    vals = _values(payload, key)
    if "match" in cond:
        m = cond["match"]
        if "value" in m:
            return any(_eq(v, m["value"]) for v in vals)
        if "any" in m:
            return any(_eq(v, x) for v in vals for x in m["any"])
        if "except" in m:
            return bool(vals) and any(not any(_eq(v, x) for x in m["except"]) for v in vals)
        raise SystemExit(f"unsupported match {m}")
    if "range" in cond:
        r = cond["range"]
        def ok(v):
            return (_is_number(v)
                    and ("gt" not in r or r["gt"] is None or v > r["gt"])
                    and ("gte" not in r or r["gte"] is None or v >= r["gte"])
                    and ("lt" not in r or r["lt"] is None or v < r["lt"])
                    and ("lte" not in r or r["lte"] is None or v <= r["lte"]))
        return any(ok(v) for v in vals)
    raise SystemExit(f"unsupported condition {cond}")


def filter_matches(flt, payload):
    must = flt.get("must") or []
    should = flt.get("should") or []
    must_not = flt.get("must_not") or []
    return (all(condition_matches(c, payload) for c in must)
            and (not should or any(condition_matches(c, payload) for c in should))
            and not any(condition_matches(c, payload) for c in must_not))


def to_qe_condition(qe, cond):
    if any(k in cond for k in ("must", "should", "must_not")):
        return to_qe_filter(qe, cond)
    key = cond["key"]
    if "match" in cond:
        m = cond["match"]
        if "value" in m:
            v = m["value"]
            # qdrant-edge-py 0.9.0 extracts a Python bool as the integer 0/1 (bool is an
            # int subclass), which never matches a bool payload; numpy.bool_ is not an
            # int, so it arrives as a bool.
            return qe.FieldCondition(key=key, match=qe.MatchValue(np.bool_(v) if isinstance(v, bool) else v))
        for name, cls in (("any", qe.MatchAny), ("except", qe.MatchExcept)):
            if name in m:
                if any(isinstance(x, bool) for x in m[name]):
                    raise SystemExit(f"match {name} takes strings or integers, not bools: {cond}")
                return qe.FieldCondition(key=key, match=cls(m[name]))
    if "range" in cond:
        r = {k: (None if v is None else float(v)) for k, v in cond["range"].items()}
        return qe.FieldCondition(key=key, range=qe.RangeFloat(**r))
    raise SystemExit(f"unsupported condition {cond}")


def to_qe_filter(qe, flt):
    conv = lambda name: [to_qe_condition(qe, c) for c in flt[name]] if flt.get(name) else None
    return qe.Filter(must=conv("must"), should=conv("should"), must_not=conv("must_not"))


def to_qe_schema(qe, schema, payload_links):
    """A create-field-index field_schema ("keyword" or {"type": "keyword", ...}) for qdrant_edge."""
    if isinstance(schema, str):
        schema = {"type": schema}
    schema = dict(schema)
    kind = schema.pop("type")
    params = {"keyword": qe.KeywordIndexParams, "integer": qe.IntegerIndexParams,
              "float": qe.FloatIndexParams, "bool": qe.BoolIndexParams,
              "uuid": qe.UuidIndexParams, "datetime": qe.DatetimeIndexParams}.get(kind)
    if params is None:
        raise SystemExit(f"unsupported field_schema type {kind}")
    if not payload_links:
        schema["enable_hnsw"] = False
    if not schema:  # the plain type name, as Qdrant's REST "field_schema": "keyword"
        return getattr(qe.PayloadSchemaType, kind.capitalize())
    return params(**schema)


# --------------------------------------------------------------------------------------
# Exact filtered ground truth

def exact_topk(base, queries, ids, metric, k=K, chunk=64):
    """Top-k of `ids` (sorted int array) for every query, float64, ties to the lower id."""
    sub = base[ids].astype(np.float64)
    sub_sq = (sub * sub).sum(1) if metric == "euclid" else None
    out = []
    for s in range(0, len(queries), chunk):
        q = queries[s:s + chunk].astype(np.float64)
        scores = q @ sub.T  # higher is better
        if metric == "euclid":
            scores = 2 * scores - sub_sq[None, :]  # -|q-b|^2 + |q|^2
        for row in scores:
            if len(ids) <= k:
                cand = np.arange(len(ids))
            else:
                top = np.argpartition(-row, k - 1)[:k]
                cand = np.nonzero(row >= row[top].min())[0]  # keeps ties at the k-th score
            order = np.lexsort((ids[cand], -row[cand]))[:k]
            out.append(ids[cand][order].tolist())
    return out


def recall(found, gt):
    return float(np.mean([len(set(f) & set(g)) / len(g) if g else 1.0 for f, g in zip(found, gt)]))


# --------------------------------------------------------------------------------------

def graph_files(path):
    """Sizes of the HNSW graph files of the shard's indexed segments."""
    out = []
    for cfg in sorted(glob.glob(os.path.join(path, "segments", "*", "vector_index", "hnsw_config.json"))):
        d = os.path.dirname(cfg)
        hc = json.load(open(cfg))
        out.append(dict(indexed_vector_count=hc.get("indexed_vector_count"),
                        full_scan_threshold_points=hc.get("full_scan_threshold"),
                        files={os.path.basename(f): os.path.getsize(f) for f in sorted(glob.glob(os.path.join(d, "*")))
                               if not f.endswith(".json")}))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data")
    p.add_argument("--filters", default=os.path.join(here, "filtered_filters.json"))
    p.add_argument("--ef", default="64,128")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=100)
    p.add_argument("--threads", type=int, default=2, help="max_indexing_threads (build only; search is 1 thread)")
    p.add_argument("--gt-out", help="write the exact filtered ground truth {filter: [[ids]...]} here")
    p.add_argument("--check", type=int, default=20, help="queries per filter cross-checked with Qdrant's exact search")
    p.add_argument("--only", help="comma list of filter names to run (default: all)")
    p.add_argument("--points", type=int, help="use only the first N base points (quick runs)")
    p.add_argument("--payload-links", choices=["on", "off"], default="on",
                   help="off: field indexes with enable_hnsw=false (no payload-aware HNSW links)")
    p.add_argument("--acorn", action="store_true", help="SearchParams(acorn=AcornSearchParams(enable=True))")
    p.add_argument("--tmp", default=None, help="parent dir for the shard (default: system tmp)")
    p.add_argument("--keep", action="store_true", help="keep the shard directory")
    a = p.parse_args()

    import qdrant_edge as qe
    try:
        from importlib.metadata import version
        qe_version = version("qdrant-edge-py")
    except Exception:
        qe_version = None

    spec = json.load(open(a.filters))
    filters = spec["filters"]
    if a.only:
        names = a.only.split(",")
        filters = [f for f in filters if f["name"] in names]
    efs = [int(x) for x in a.ef.split(",")]
    data_name = os.path.basename(a.data.rstrip("/"))
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    metric = meta["metric"].lower()
    if metric in ("euclid", "l2"):
        metric, dist = "euclid", qe.Distance.Euclid
    elif metric in ("cosine", "ip", "dot"):
        dist = qe.Distance.Dot
    else:
        raise SystemExit(f"unsupported metric {metric}")

    base = read_vecs(os.path.join(a.data, "base.fvecs"), a.points)
    queries = read_vecs(os.path.join(a.data, "query.fvecs"), a.queries)
    n, dim = base.shape
    nq = len(queries)
    payloads = read_payloads(os.path.join(a.data, "payload.jsonl"), n)
    normalised = False
    if metric == "cosine":
        norms = np.linalg.norm(base, axis=1)
        qnorms = np.linalg.norm(queries, axis=1)
        if np.abs(norms - 1).max() > 1e-4 or np.abs(qnorms - 1).max() > 1e-4:
            base = (base / norms[:, None]).astype(np.float32)
            queries = (queries / qnorms[:, None]).astype(np.float32)
            normalised = True

    # ---- exact filtered ground truth (numpy), before the build so it can be checked early
    t = time.perf_counter()
    gts, matching = {}, {}
    for f in filters:
        ids = np.array([i for i, pl in enumerate(payloads) if filter_matches(f["filter"], pl)], dtype=np.int64)
        matching[f["name"]] = ids
        gts[f["name"]] = exact_topk(base, queries, ids, metric)
    log(dict(stage="ground_truth", seconds=round(time.perf_counter() - t, 2),
             matching={k: int(len(v)) for k, v in matching.items()}))
    if a.gt_out:
        with open(a.gt_out, "w") as fo:
            json.dump({k: v for k, v in gts.items()}, fo, separators=(",", ":"))
        log(f"wrote {a.gt_out}")

    # ---- build
    path = tempfile.mkdtemp(prefix="qe-filtered-", dir=a.tmp)
    cfg = qe.EdgeConfig(vectors={"": qe.EdgeVectorParams(size=dim, distance=dist)},
                        hnsw_config=qe.HnswIndexConfig(m=a.m, ef_construct=a.efc, full_scan_threshold=10000,
                                                       max_indexing_threads=a.threads),
                        max_search_threads=1)
    shard = qe.EdgeShard.create(path, cfg)
    try:
        t0 = time.perf_counter()
        for ix in spec["indexes"]:
            shard.update(qe.UpdateOperation.create_field_index(
                ix["field_name"], to_qe_schema(qe, ix["field_schema"], a.payload_links == "on")))
        t_idx = time.perf_counter()
        B = 1000
        for s in range(0, n, B):
            pts = [qe.Point(id=i, vector=base[i].tolist(), payload=payloads[i]) for i in range(s, min(s + B, n))]
            shard.update(qe.UpdateOperation.upsert_points(pts))
        t_up = time.perf_counter()
        shard.flush()
        t_fl = time.perf_counter()
        shard.optimize()
        t_opt = time.perf_counter()
        build_s = round(t_opt - t0, 2)
        info = shard.info()
        schema = {k: dict(type=str(v.data_type).split(".")[-1], points=int(v.points),
                          is_tenant=getattr(v.params, "is_tenant", None) if v.params is not None else None,
                          enable_hnsw=getattr(v.params, "enable_hnsw", None) if v.params is not None else None)
                  for k, v in info.payload_schema.items()}
        log(dict(stage="build", peer="qdrant-edge", qdrant_edge_py=qe_version, n=n, dim=dim,
                 distance=str(dist).split(".")[-1], normalised=normalised, m=a.m, ef_construct=a.efc,
                 full_scan_threshold_kb=10000, payload_links=a.payload_links,
                 index_s=round(t_idx - t0, 2), upsert_s=round(t_up - t_idx, 2), flush_s=round(t_fl - t_up, 2),
                 optimize_s=round(t_opt - t_fl, 2), build_s=build_s,
                 segments=int(info.segments_count), points=int(info.points_count),
                 indexed_vectors=int(info.indexed_vectors_count), payload_schema=schema))
        log(dict(stage="links", segments=graph_files(path)))
        if int(info.points_count) != n:
            raise SystemExit(f"shard holds {info.points_count} points, expected {n}")

        # ---- cross-check the numpy ground truth with Qdrant's exact filtered search
        qfilters = {f["name"]: to_qe_filter(qe, f["filter"]) for f in filters}
        for f in filters:
            name = f["name"]
            checked = min(a.check, nq)
            diff = []
            for i in range(checked):
                res = shard.query(qe.QueryRequest(query=qe.Query.Nearest(queries[i].tolist()), limit=K,
                                                  filter=qfilters[name], params=qe.SearchParams(exact=True)))
                got = [int(r.id) for r in res]
                if got != gts[name][i]:
                    diff.append(dict(query=i, qdrant=got, numpy=gts[name][i],
                                     same_set=set(got) == set(gts[name][i])))
            cnt = shard.count(qe.CountRequest(filter=qfilters[name], exact=True))
            log(dict(stage="exact_check", filter=name, queries=checked, mismatched=len(diff),
                     qdrant_count=int(cnt), numpy_count=int(len(matching[name])), diffs=diff[:3]))

        # ---- filtered search
        warm = [qe.QueryRequest(query=qe.Query.Nearest(q.tolist()), limit=K) for q in queries[:20]]
        for r in warm:
            shard.query(r)
        for f in filters:
            name = f["name"]
            for ef in efs:
                sp = qe.SearchParams(hnsw_ef=ef, acorn=qe.AcornSearchParams(enable=True)) if a.acorn \
                    else qe.SearchParams(hnsw_ef=ef)
                reqs = [qe.QueryRequest(query=qe.Query.Nearest(q.tolist()), limit=K, filter=qfilters[name],
                                        params=sp) for q in queries]
                for r in reqs[:5]:
                    shard.query(r)
                lat, found = [], []
                for r in reqs:
                    t = time.perf_counter()
                    res = shard.query(r)
                    lat.append(time.perf_counter() - t)
                    found.append([int(x.id) for x in res])
                row = {"peer": "qdrant-edge" + ("-acorn" if a.acorn else "")
                       + ("-nolinks" if a.payload_links == "off" else ""),
                       "filter": name, "selectivity": round(len(matching[name]) / n, 5), "ef": ef,
                       "recall10": round(recall(found, gts[name]), 4),
                       "qps": round(nq / sum(lat), 1),
                       "p50_ms": round(percentile_ms(lat, 0.50), 3), "p99_ms": round(percentile_ms(lat, 0.99), 3),
                       "build_s": build_s, "matching": int(len(matching[name])), "queries": nq, "data": data_name}
                print(json.dumps(row), flush=True)
    finally:
        shard.close()
        if not a.keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            log(f"kept {path}")


if __name__ == "__main__":
    main()
