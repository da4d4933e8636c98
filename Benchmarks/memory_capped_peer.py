"""Qdrant Edge under the same memory cap as `strata bench ann --memory-limit` (issue 21):
vectors on disk, int8 codes in RAM, HNSW on disk (Qdrant's beyond-RAM setup), the query
phase in a memory cgroup (v1 or v2) that also caps its page cache. Prints one JSON line
per (ef, query threads) with the fields Strata's bench prints (recall10, qps, p50_ms,
p99_ms, pages_read_per_query, cgroup_*). If the capped query process dies (the cgroup's
OOM killer), that is its result: a line with "failed".

    Benchmarks/memory_capped_peer.py DATA_DIR --memory-limit 256M [--ef 32,64,128]
        [--query-threads 1,8] [--queries N] [--store DIR]

Run it with the peers' venv (qdrant-edge-py, numpy; ../shared/bench/README.md) as root
(cgroups are root's). The build runs uncapped in this process; the queries run in a child
process that joins the cgroup, drops the shard's files from the page cache and opens it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_data import read_vecs  # noqa: E402


def parse_bytes(text: str) -> int:
    units = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
             "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
    number = text.rstrip("bBkKmMgGiI")
    return int(float(number) * units[text[len(number):].lower()])


def own_memory_cgroup():
    """(directory of this process's memory cgroup, "v1" or "v2")."""
    for line in open("/proc/self/cgroup").read().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(",") and os.path.exists("/sys/fs/cgroup/memory"):
            return "/sys/fs/cgroup/memory" + ("" if path == "/" else path), "v1"
    for line in open("/proc/self/cgroup").read().splitlines():
        if line.startswith("0::"):
            path = "/sys/fs/cgroup" + ("" if line[3:] == "/" else line[3:])
            if "memory" in open(path + "/cgroup.controllers").read().split():
                return path, "v2"
    sys.exit("memory_capped_peer: no memory cgroup (v1 or v2) found")


def write(path: str, value: str, optional: bool = False):
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        if not optional:
            sys.exit(f"memory_capped_peer: cannot write {value} to {path}: {e} (run as root)")


def make_cgroup(limit: int):
    parent, version = own_memory_cgroup()
    path = f"{parent}/strata-peer-{os.getpid()}"
    os.makedirs(path, exist_ok=True)
    if version == "v1":
        write(path + "/memory.limit_in_bytes", str(limit))
        write(path + "/memory.memsw.limit_in_bytes", str(limit), optional=True)
        write(path + "/memory.swappiness", "0", optional=True)
    else:
        write(parent + "/cgroup.subtree_control", "+memory", optional=True)
        write(path + "/memory.max", str(limit))
        write(path + "/memory.swap.max", "0", optional=True)
    return path, version


def cgroup_fields(path: str, version: str, limit: int) -> dict:
    def number(name):
        try:
            return int(open(f"{path}/{name}").read().strip())
        except (OSError, ValueError):
            return None
    stat = {}
    for line in open(f"{path}/memory.stat").read().splitlines():
        key, _, value = line.partition(" ")
        stat[key] = int(value)
    mb = lambda b: None if b is None else b / 1048576
    if version == "v1":
        current, peak, cache, anon = (number("memory.usage_in_bytes"), number("memory.max_usage_in_bytes"),
                                      stat.get("cache"), stat.get("rss"))
    else:
        current, peak, cache, anon = number("memory.current"), number("memory.peak"), stat.get("file"), stat.get("anon")
    return dict(cgroup=version, memory_limit_mb=limit / 1048576, cgroup_mb=mb(current), cgroup_peak_mb=mb(peak),
                cgroup_page_cache_mb=mb(cache), cgroup_anon_mb=mb(anon))


def evict(directory: str):
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def read_bytes() -> int:
    for line in open("/proc/self/io"):
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    return 0


def build(args, base, metric):
    import qdrant_edge as qe
    dist = qe.Distance.Euclid if metric == "euclid" else qe.Distance.Cosine if metric == "cosine" else qe.Distance.Dot
    quant = qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, always_ram=True)
    cfg = qe.EdgeConfig(
        vectors={"": qe.EdgeVectorParams(size=base.shape[1], distance=dist, on_disk=True)},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10000, on_disk=True),
        quantization_config=quant, on_disk_payload=True)
    shard = qe.EdgeShard.create(args.store, cfg)
    start = time.perf_counter()
    for s in range(0, len(base), 1000):
        shard.update(qe.UpdateOperation.upsert_points(
            [qe.Point(id=int(i), vector=base[i].tolist(), payload={}) for i in range(s, min(s + 1000, len(base)))]))
    shard.flush()
    shard.optimize()
    shard.close()
    return time.perf_counter() - start


def query_phase(args):
    """The child: join the cgroup, drop the shard from the page cache, open it, query."""
    import qdrant_edge as qe
    path, version = args.cgroup.split(":", 1)[1], args.cgroup.split(":", 1)[0]
    write(path + "/cgroup.procs", str(os.getpid()))
    evict(args.store)
    query = read_vecs(os.path.join(args.data, "query.fvecs"))
    gt = read_vecs(os.path.join(args.data, "gt.ivecs"), dtype=np.int32)
    query, gt = query[:args.queries], gt[:args.queries, :10]
    shard = qe.EdgeShard.load(args.store)
    limit = parse_bytes(args.memory_limit)
    for ef in [int(x) for x in args.ef.split(",")]:
        for threads in [int(x) for x in args.query_threads.split(",")]:
            params = qe.SearchParams(hnsw_ef=ef, quantization=qe.QuantizationSearchParams(rescore=True))
            latencies = [0.0] * len(query)
            found = [None] * len(query)

            def work(worker):
                for q in range(worker, len(query), threads):
                    t = time.perf_counter()
                    res = shard.query(qe.QueryRequest(query=qe.Query.Nearest(query[q].tolist()), limit=10, params=params))
                    latencies[q] = time.perf_counter() - t
                    found[q] = {int(p.id) for p in res}

            before = read_bytes()
            start = time.perf_counter()
            workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wall = time.perf_counter() - start
            pages = (read_bytes() - before) / 4096 / len(query)
            ordered = sorted(latencies)
            hits = sum(len(found[q] & set(gt[q].tolist())) for q in range(len(query)))
            print(json.dumps(dict(
                engine="qdrant-edge-int8", data=os.path.basename(os.path.normpath(args.data)), ef=ef,
                query_threads=threads, queries=len(query), recall10=hits / (10 * len(query)), qps=len(query) / wall,
                p50_ms=ordered[len(ordered) // 2] * 1000, p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
                pages_read_per_query=pages, vectors_on_disk=True, hnsw_on_disk=True,
                **cgroup_fields(path, version, limit)), sort_keys=True), flush=True)
    shard.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--memory-limit", required=True)
    p.add_argument("--ef", default="32,64,128")
    p.add_argument("--query-threads", default="1,8")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--store", help="an Edge shard built before (kept); default: built now in a temporary directory")
    p.add_argument("--cgroup", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.cgroup:
        query_phase(args)
        return
    owned = args.store is None
    if owned:
        args.store = tempfile.mkdtemp(prefix="edge-capped-")
    try:
        if not os.path.isdir(args.store) or not os.listdir(args.store):
            os.makedirs(args.store, exist_ok=True)
            base = read_vecs(os.path.join(args.data, "base.fvecs"))
            metric = json.load(open(os.path.join(args.data, "meta.json"))).get("metric", "euclid")
            seconds = build(args, base, metric)
            del base
            print(f"memory_capped_peer: built in {seconds:.1f} s at {args.store}", file=sys.stderr)
        limit = parse_bytes(args.memory_limit)
        path, version = make_cgroup(limit)
        try:
            child = subprocess.run([sys.executable, __file__, args.data, "--memory-limit", args.memory_limit,
                                    "--ef", args.ef, "--query-threads", args.query_threads,
                                    "--queries", str(args.queries), "--store", args.store,
                                    "--cgroup", f"{version}:{path}"])
            if child.returncode != 0:
                print(json.dumps(dict(engine="qdrant-edge-int8", memory_limit_mb=limit / 1048576, failed=True,
                                      reason=f"the capped query process exited with {child.returncode}"
                                      + (" (killed: the cgroup's OOM killer)" if child.returncode == -9 else ""))),
                      flush=True)
        finally:
            os.rmdir(path)
    finally:
        if owned:
            shutil.rmtree(args.store, ignore_errors=True)


if __name__ == "__main__":
    main()
