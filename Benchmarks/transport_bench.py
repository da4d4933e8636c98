#!/usr/bin/env python3
"""REST against gRPC through the official Python client (qdrant-client), with the server's
own time per call from its /metrics, so the transport's share of each call is visible.
Driven by Benchmarks/run_transport.sh, which also runs the embedded ceilings and calls
`--summary` at the end.

Method, for each transport (rest: prefer_grpc=False; grpc: prefer_grpc=True):
  1. A fresh collection named after the transport (size = the data set's dimension,
     Cosine, defaults otherwise).
  2. Upsert: the first --points base vectors in batches of --batch, one client, one call
     at a time, `client.upsert(collection, points=[PointStruct...], wait=True)`. Only the
     upsert calls are timed (the PointStruct lists are built between them): client
     points/s = points / summed call time (wall time, building included, is recorded too).
  3. Index wait: until the collection is green and indexed_vectors_count >= points
     (read over REST; progress every 5 s), so the searches run on the finished graph, as
     `strata bench search` does on the reopened data directory. Below the optimizer's
     indexing_threshold (10,000 KB of vectors: about 6,600 points at 384-d, small runs)
     no graph is built and only green is awaited: those searches scan.
  4. Search, for each count C in --clients: C threads, each its own QdrantClient (one
     warm-up query each, not counted), share --queries queries from query.fvecs (cycled
     if the file has fewer), `client.query_points(collection, query=vec, limit=10)`.
     QPS = queries / wall time; p50/p99 = nearest-rank percentiles of the per-call
     client latencies.
Server time: GET /metrics before and after each timed phase; the deltas of
  REST  rest_responses_duration_seconds_{sum,count}{method, endpoint, status="200"} for
        PUT /collections/{collection_name}/points and
        POST /collections/{collection_name}/points/query;
  gRPC  grpc_responses_duration_seconds_{sum,count}{endpoint="/qdrant.Points/Upsert"}
        and "/qdrant.Points/Query" (no status label: failures are counted in them, and
        grpc_responses_fail_total is reported next to them).
server_ms_per_call = delta sum / delta count; transport_share = 1 - server time / client
time over the same calls (the client's encoding, the wire and the client library). Both
server clocks start when the request arrives: REST's at the request head, gRPC's at the
request stream's HEADERS frame (stamped by the server's GRPCRequestIntake), so reading the
body and decoding it (JSON or protobuf) count as server time on both.
Client and server share the machine's cores: with 8 Python threads the client (GIL) is
part of what is measured. One JSON line per phase on stdout; progress on stderr.

  transport_bench.py --url http://127.0.0.1:6333 --grpc-port 6334 --data DIR
  transport_bench.py --summary OUT_DIR   (the table of run_transport.sh's results)
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.request
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import log, percentile_ms, read_vecs  # noqa: E402

REST_UPSERT = ("PUT", "/collections/{collection_name}/points")
REST_QUERY = ("POST", "/collections/{collection_name}/points/query")
GRPC_UPSERT = "/qdrant.Points/Upsert"
GRPC_QUERY = "/qdrant.Points/Query"

METRIC = re.compile(r"^([a-z_]+)(?:\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def read_metrics(url):
    """{(name, frozenset(labels)): value} of the server's /metrics."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = METRIC.match(line)
        if m:
            out[(m.group(1), frozenset(LABEL.findall(m.group(2) or "")))] = float(m.group(3))
    return out


def server_time(before, after, transport, phase):
    """Server calls, seconds and failures of one phase's endpoint between two /metrics reads."""
    if transport == "rest":
        method, endpoint = REST_UPSERT if phase == "upsert" else REST_QUERY
        labels = frozenset({("method", method), ("endpoint", endpoint), ("status", "200")})
        name = "rest_responses_duration_seconds"
        fail = None
    else:
        labels = frozenset({("endpoint", GRPC_UPSERT if phase == "upsert" else GRPC_QUERY)})
        name = "grpc_responses_duration_seconds"
        fail = ("grpc_responses_fail_total", labels)
    d = lambda key: after.get(key, 0.0) - before.get(key, 0.0)  # noqa: E731
    count = d((name + "_count", labels))
    seconds = d((name + "_sum", labels))
    failures = d(fail) if fail else None
    return int(count), seconds, (int(failures) if failures is not None else None)


def rest_get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.loads(r.read())["result"]


def make_client(args, transport):
    from qdrant_client import QdrantClient

    u = urlparse(args.url)
    return QdrantClient(host=u.hostname, port=u.port, grpc_port=args.grpc_port,
                        prefer_grpc=(transport == "grpc"), timeout=args.timeout)


def share(server_s, client_s):
    return round(1 - server_s / client_s, 3) if client_s > 0 and server_s > 0 else None


def upsert(args, transport, base, collection):
    from qdrant_client import models

    client = make_client(args, transport)
    if client.collection_exists(collection):
        client.delete_collection(collection)
    client.create_collection(collection, vectors_config=models.VectorParams(
        size=base.shape[1], distance=models.Distance.COSINE))
    before = read_metrics(args.url)
    calls = []
    wall0 = time.perf_counter()
    for start in range(0, args.points, args.batch):
        end = min(start + args.batch, args.points)
        points = [models.PointStruct(id=i, vector=base[i].tolist()) for i in range(start, end)]
        t0 = time.perf_counter()
        client.upsert(collection, points=points, wait=True)
        calls.append(time.perf_counter() - t0)
    wall = time.perf_counter() - wall0
    after = read_metrics(args.url)
    client.close()
    count, server_s, failures = server_time(before, after, transport, "upsert")
    client_s = sum(calls)
    return {"bench": "transport-upsert", "transport": transport, "collection": collection,
            "points": args.points, "batch": args.batch, "calls": len(calls),
            "seconds": round(client_s, 3), "wall_seconds": round(wall, 3),
            "points_per_s": round(args.points / client_s),
            "client_ms_per_call": round(client_s / len(calls) * 1000, 3),
            "p50_ms": round(percentile_ms(calls, 0.50), 3), "p99_ms": round(percentile_ms(calls, 0.99), 3),
            "server_calls": count, "server_failures": failures, "server_seconds": round(server_s, 3),
            "server_ms_per_call": round(server_s / count * 1000, 3) if count else None,
            "server_points_per_s": round(args.points / server_s) if server_s > 0 else None,
            "transport_share": share(server_s, client_s)}


def wait_indexed(args, collection, dim):
    """Waits until the collection is green with every vector indexed. When the points stay
    below the optimizer's indexing_threshold (KB of vectors, as in Qdrant) no graph is
    built (searches scan): then only green is awaited. If the collection stays green with
    fewer vectors indexed for --settle seconds (segments left below the threshold), it
    stops waiting and says so. Returns the index-wait result line."""
    t0 = time.perf_counter()
    last_log = t0
    r = rest_get(args.url, f"/collections/{collection}")
    threshold_kb = (r.get("config", {}).get("optimizer_config") or {}).get("indexing_threshold")
    hnsw = not (threshold_kb and args.points * dim * 4 < threshold_kb * 1024)
    if not hnsw:
        log(f"{collection}: {args.points} points are below indexing_threshold ({threshold_kb} KB): "
            "no HNSW index is built, searches scan")
    seen, since = None, t0
    while True:
        r = rest_get(args.url, f"/collections/{collection}")
        indexed = r.get("indexed_vectors_count") or 0
        now = time.perf_counter()
        if (r["status"], indexed) != seen:
            seen, since = (r["status"], indexed), now
        if r["status"] == "green" and (indexed >= args.points or not hnsw):
            break
        if r["status"] == "green" and now - since >= args.settle:
            log(f"{collection}: green with {indexed} of {args.points} vectors indexed for {args.settle} s: "
                "searching as it is")
            break
        if now - last_log >= 5:
            log({"collection": collection, "status": r["status"], "indexed_vectors_count": indexed,
                 "points_count": r.get("points_count"), "segments_count": r.get("segments_count"),
                 "waited_s": round(now - t0)})
            last_log = now
        if now - t0 > args.index_timeout:
            raise SystemExit(f"{collection}: not indexed after {args.index_timeout} s ({r})")
        time.sleep(0.5)
    return {"bench": "transport-index-wait", "collection": collection, "seconds": round(time.perf_counter() - t0, 2),
            "hnsw": hnsw, "indexed_vectors_count": indexed, "points_count": r.get("points_count"),
            "segments_count": r.get("segments_count")}


def search(args, transport, queries, collection, clients):
    n = args.queries
    shares = [list(range(c, n, clients)) for c in range(clients)]
    latencies = [[] for _ in range(clients)]
    errors = []
    conns = [make_client(args, transport) for _ in range(clients)]
    for c in conns:  # connection set-up and first-call costs stay out of the timing
        c.query_points(collection, query=queries[0], limit=10)
    barrier = threading.Barrier(clients + 1)

    def worker(k):
        client, lat = conns[k], latencies[k]
        barrier.wait()
        for i in shares[k]:
            t0 = time.perf_counter()
            try:
                r = client.query_points(collection, query=queries[i % len(queries)], limit=10)
                if len(r.points) != 10:
                    errors.append(f"{len(r.points)} points")
            except Exception as e:  # counted; the first few are printed
                errors.append(repr(e)[:200])
                continue
            lat.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    before = read_metrics(args.url)
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = read_metrics(args.url)
    for c in conns:
        c.close()
    flat = [x for lat in latencies for x in lat]
    count, server_s, failures = server_time(before, after, transport, "query")
    client_s = sum(flat)
    for e in errors[:3]:
        log({"transport": transport, "clients": clients, "error": e})
    return {"bench": "transport-search", "transport": transport, "collection": collection,
            "clients": clients, "queries": n, "errors": len(errors), "seconds": round(wall, 3),
            "qps": round(len(flat) / wall, 1),
            "mean_ms": round(client_s / len(flat) * 1000, 3) if flat else None,
            "p50_ms": round(percentile_ms(flat, 0.50), 3) if flat else None,
            "p99_ms": round(percentile_ms(flat, 0.99), 3) if flat else None,
            "server_calls": count, "server_failures": failures,
            "server_ms_per_call": round(server_s / count * 1000, 3) if count else None,
            "transport_share": share(server_s, client_s)}


def run(args):
    base = read_vecs(os.path.join(args.data, "base.fvecs"), args.points)
    if len(base) < args.points:
        raise SystemExit(f"{args.data}/base.fvecs has only {len(base)} vectors")
    queries = [q.tolist() for q in read_vecs(os.path.join(args.data, "query.fvecs"), args.queries)]
    for transport in args.transports.split(","):
        collection = transport
        log(f"== {transport}: upsert {args.points} points, batch {args.batch}")
        r = upsert(args, transport, base, collection)
        print(json.dumps(r), flush=True)
        log(f"== {transport}: waiting for the index")
        print(json.dumps({**wait_indexed(args, collection, base.shape[1]), "transport": transport}), flush=True)
        for clients in [int(c) for c in args.clients.replace(",", " ").split()]:
            log(f"== {transport}: search, {clients} client(s), {args.queries} queries")
            print(json.dumps(search(args, transport, queries, collection, clients)), flush=True)


# --- summary -------------------------------------------------------------------------


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip().startswith("{")]


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def verdict(value, op, target):
    if value is None:
        return "-"
    ok = value >= target if op == ">=" else value <= target
    return f"{value:.2f}x {'met' if ok else 'MISSED'} (target {op} {target}x)"


def summary(out):
    results = load(out, "transport.jsonl")
    up = {r["transport"]: r for r in results if r["bench"] == "transport-upsert"}
    se = {(r["transport"], r["clients"]): r for r in results if r["bench"] == "transport-search"}
    emb_up = (load(out, "embedded-upsert.jsonl") or [{}])[-1]
    emb_se = {}
    for r in load(out, "embedded-search.jsonl"):
        res = r.get("result", r)
        emb_se[res.get("threads") or r.get("threads")] = res
    paused = [r.get("result", r) for r in load(out, "embedded-search-paused.jsonl")]
    rest, grpc = up.get("rest", {}), up.get("grpc", {})
    e_pps = emb_up.get("points_per_s")
    batch = emb_up.get("batch") or rest.get("batch") or grpc.get("batch")
    e_batch_ms = batch / e_pps * 1000 if e_pps and batch else None
    rows = [("upsert", "points/s (client)", rest.get("points_per_s"), grpc.get("points_per_s"), e_pps, 0,
             verdict(grpc["points_per_s"] / e_pps, ">=", 0.5) if grpc and e_pps else "-"),
            ("upsert", "points/s (server: points / server time)", rest.get("server_points_per_s"),
             grpc.get("server_points_per_s"), e_pps, 0,
             verdict(grpc["server_points_per_s"] / e_pps, ">=", 0.5)
             if grpc.get("server_points_per_s") and e_pps else "-"),
            ("upsert", "ms per batch (client)", rest.get("client_ms_per_call"), grpc.get("client_ms_per_call"),
             e_batch_ms, 2, ""),
            ("upsert", "ms per batch (server)", rest.get("server_ms_per_call"), grpc.get("server_ms_per_call"),
             e_batch_ms, 2, ""),
            ("upsert", "transport share (1 - server/client)", rest.get("transport_share"),
             grpc.get("transport_share"), None, 3, "")]
    for clients in sorted({c for _, c in se}):
        r, g = se.get(("rest", clients), {}), se.get(("grpc", clients), {})
        e = emb_se.get(clients, {})
        e_qps = e.get("qps")
        # embedded mean time per search: threads / QPS (1 / QPS for one thread)
        e_ms = clients / e_qps * 1000 if e_qps else None
        phase = f"search {clients} client{'s' if clients > 1 else ''}"
        target = ""
        if clients == 1 and g.get("server_ms_per_call") and e_ms:
            target = verdict(g["server_ms_per_call"] / e_ms, "<=", 1.2)
        rows += [(phase, "QPS", r.get("qps"), g.get("qps"), e_qps, 0, ""),
                 (phase, "p50 ms (client)", r.get("p50_ms"), g.get("p50_ms"), e.get("p50_ms"), 2, ""),
                 (phase, "p99 ms (client)", r.get("p99_ms"), g.get("p99_ms"), e.get("p99_ms"), 2, ""),
                 (phase, "mean ms (client; embedded: threads / QPS)", r.get("mean_ms"), g.get("mean_ms"), e_ms, 2, ""),
                 (phase, "server ms per search", r.get("server_ms_per_call"), g.get("server_ms_per_call"), e_ms, 3,
                  target),
                 (phase, "transport share (1 - server/client)", r.get("transport_share"),
                  g.get("transport_share"), None, 3, "")]
        if clients == 1 and paused and paused[-1].get("mean_ms"):
            p = paused[-1]
            rows.append((phase, f"server ms per search; embedded idling {p.get('pause_ms')} ms between searches",
                         r.get("server_ms_per_call"), g.get("server_ms_per_call"), p["mean_ms"], 3, ""))
    lines = ["| phase | metric | REST | gRPC | embedded | REST/emb | gRPC/emb | target (gRPC) |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for phase, metric, rv, gv, ev, digits, target in rows:
        rat = "share" not in metric and ev is not None
        lines.append(f"| {phase} | {metric} | {fmt(rv, digits)} | {fmt(gv, digits)} | {fmt(ev, digits)} | "
                     f"{ratio(rv, ev) if rat else '-'} | {ratio(gv, ev) if rat else '-'} | {target} |")
    notes = []
    for t, r in up.items():
        if r.get("server_calls") != r.get("calls") or r.get("server_failures"):
            notes.append(f"{t} upsert: {r['calls']} client calls, {r.get('server_calls')} counted by the server, "
                         f"{r.get('server_failures')} failed")
    for (t, c), r in se.items():
        if r.get("errors") or r.get("server_failures") or r.get("server_calls") != r.get("queries"):
            notes.append(f"{t} search {c} clients: {r['errors']} client errors, {r.get('server_calls')} server calls "
                         f"for {r['queries']} queries, {r.get('server_failures')} failed")
    for r in results:
        if r["bench"] == "transport-index-wait":
            note = f"{r['transport']}: index wait {r['seconds']} s, {r.get('indexed_vectors_count')} of " \
                   f"{r.get('points_count')} vectors indexed in {r.get('segments_count')} segment(s)"
            if not r.get("hnsw", True):
                note += " (below indexing_threshold: no HNSW graph, searches scan)"
            notes.append(note)
    if up.get("grpc"):
        notes.append("server time starts when the request arrives (REST: its head; gRPC: its stream's HEADERS "
                     "frame), so receiving and decoding the body count as server time on both")
    meta = (load(out, "config.jsonl") or [{}])[-1]
    head = [f"# Transport benchmark ({meta.get('data', '?')}, {meta.get('points', '?')} points, batch "
            f"{meta.get('batch', '?')}, {meta.get('queries', '?')} queries, binary {meta.get('strata', '?')})", ""]
    text = "\n".join(head + lines + ([""] + [f"- {n}" for n in notes] if notes else [])) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text, end="")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:6333", help="REST base URL (also read for /metrics)")
    ap.add_argument("--grpc-port", type=int, default=6334)
    ap.add_argument("--data", help="TEXMEX data set directory (base.fvecs, query.fvecs)")
    ap.add_argument("--points", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--clients", default="1 8", help="concurrent search clients, e.g. '1 8'")
    ap.add_argument("--transports", default="rest,grpc")
    ap.add_argument("--timeout", type=int, default=120, help="qdrant-client timeout, seconds")
    ap.add_argument("--index-timeout", type=float, default=3600)
    ap.add_argument("--settle", type=float, default=60,
                    help="stop waiting for the index after this many seconds green with no progress")
    ap.add_argument("--summary", metavar="OUT_DIR", help="print and write OUT_DIR/summary.md, then exit")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
    elif not args.data:
        ap.error("--data is required")
    else:
        run(args)


if __name__ == "__main__":
    main()
