#!/usr/bin/env python3
"""Load test of `strata serve` (issue 7): N concurrent HTTP clients mixing upserts and
queries for a fixed time, then a query-only phase compared with the embedded API.

Method
  1. Start `strata serve` (the given binary, release build recommended) on a free port
     with a fresh data directory; create a collection (--dim, Cosine) and load
     --points points in batches of 256.
  2. Mixed phase: --clients threads, each with its own HTTP connection (httpx), for
     --seconds; each request is an upsert of --upsert-batch new points with probability
     --write-fraction, else a top-10 query by a random normal vector. Latency is timed
     per request on the client.
  3. Query phase: the same clients, queries only, for --seconds: HTTP search QPS.
  4. Server RSS (VmRSS from /proc) at the end; SIGTERM; exit code must be 0.
  5. `strata bench search` on the same data directory with the same concurrency and
     seconds: embedded search QPS. Ratio = embedded QPS / HTTP QPS (the HTTP overhead).
Errors must be zero; any non-2xx or transport error is counted and printed.
Prints one JSON document. Client and server share the machine's cores (2 here), so the
client's own CPU use is part of what is measured: compare runs on the same machine only.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def percentiles(values):
    if not values:
        return {"p50_ms": None, "p99_ms": None}
    a = np.sort(np.array(values))
    return {"p50_ms": round(float(a[int(0.5 * (len(a) - 1))]) * 1000, 3),
            "p99_ms": round(float(a[int(0.99 * (len(a) - 1))]) * 1000, 3)}


def run_phase(url, collection, args, write_fraction, next_id):
    stop = time.time() + args.seconds
    lock = threading.Lock()
    stats = {"query": [], "upsert": [], "errors": 0, "error_samples": []}

    def worker(seed):
        rng = np.random.default_rng(seed)
        local = {"query": [], "upsert": [], "errors": 0, "samples": []}
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.time() < stop:
                if random.Random(int(rng.integers(1 << 30))).random() < write_fraction:
                    with lock:
                        first = next_id[0]
                        next_id[0] += args.upsert_batch
                    vectors = rng.normal(size=(args.upsert_batch, args.dim)).astype(np.float32)
                    body = {"batch": {"ids": list(range(first, first + args.upsert_batch)), "vectors": vectors.tolist(),
                                      "payloads": [{"n": i} for i in range(first, first + args.upsert_batch)]}}
                    kind, method, path = "upsert", "PUT", f"/collections/{collection}/points?wait=true"
                else:
                    body = {"query": rng.normal(size=args.dim).astype(np.float32).tolist(), "limit": 10}
                    kind, method, path = "query", "POST", f"/collections/{collection}/points/query"
                t0 = time.perf_counter()
                try:
                    r = http.request(method, path, json=body)
                    ok = r.status_code == 200
                    if not ok and len(local["samples"]) < 3:
                        local["samples"].append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as e:
                    ok = False
                    if len(local["samples"]) < 3:
                        local["samples"].append(repr(e))
                elapsed = time.perf_counter() - t0
                if ok:
                    local[kind].append(elapsed)
                else:
                    local["errors"] += 1
        with lock:
            stats["query"] += local["query"]
            stats["upsert"] += local["upsert"]
            stats["errors"] += local["errors"]
            stats["error_samples"] += local["samples"]

    started = time.time()
    threads = [threading.Thread(target=worker, args=(1000 + i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - started
    total = len(stats["query"]) + len(stats["upsert"])
    return {
        "seconds": round(wall, 2), "requests_per_s": round(total / wall, 1), "errors": stats["errors"],
        "error_samples": stats["error_samples"][:3],
        "query": {"count": len(stats["query"]), "per_s": round(len(stats["query"]) / wall, 1), **percentiles(stats["query"])},
        "upsert": {"count": len(stats["upsert"]), "points_per_s": round(len(stats["upsert"]) * args.upsert_batch / wall, 1),
                   **percentiles(stats["upsert"])},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default=".build/release/strata", help="strata binary (release build)")
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--write-fraction", type=float, default=0.2)
    parser.add_argument("--upsert-batch", type=int, default=16)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="strata-load-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.strata, "serve", "--data-dir", data_dir, "--port", str(port), "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        collection = "load"
        httpx.put(f"{url}/collections/{collection}", json={"vectors": {"size": args.dim, "distance": "Cosine"}}).raise_for_status()
        rng = np.random.default_rng(42)
        load_start = time.time()
        with httpx.Client(base_url=url, timeout=120) as http:
            for first in range(0, args.points, 256):
                n = min(256, args.points - first)
                body = {"batch": {"ids": list(range(first, first + n)),
                                  "vectors": rng.normal(size=(n, args.dim)).astype(np.float32).tolist()}}
                http.put(f"/collections/{collection}/points?wait=true", json=body).raise_for_status()
        load_seconds = time.time() - load_start
        next_id = [args.points]
        mixed = run_phase(url, collection, args, args.write_fraction, next_id)
        queries = run_phase(url, collection, args, 0.0, next_id)
        rss = rss_mib(server.pid)
        points = httpx.post(f"{url}/collections/{collection}/points/count", json={}).json()["result"]["count"]
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)

    embedded = json.loads(subprocess.run(
        [args.strata, "bench", "search", "--data-dir", data_dir, "--collection", "load", "--threads", str(args.clients),
         "--seconds", str(args.seconds)], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])["result"]
    report = {
        "bench": "server-load", "cpus": os.cpu_count(),
        "config": {"points": args.points, "dim": args.dim, "clients": args.clients, "seconds": args.seconds,
                   "write_fraction": args.write_fraction, "upsert_batch": args.upsert_batch},
        "initial_load": {"seconds": round(load_seconds, 2), "points_per_s": round(args.points / load_seconds, 1)},
        "mixed": mixed, "query_only_http": queries,
        "embedded_search": {k: round(v, 3) for k, v in embedded.items()},
        "http_overhead_ratio": round(embedded["qps"] / max(queries["query"]["per_s"], 1e-9), 2),
        "server_rss_mib_at_end": round(rss, 1) if rss else None, "points_at_end": points,
        "server_exit_code": exit_code,
        "errors_total": mixed["errors"] + queries["errors"],
    }
    print(json.dumps(report, indent=2))
    return 0 if report["errors_total"] == 0 and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
