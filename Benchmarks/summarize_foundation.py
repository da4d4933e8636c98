#!/usr/bin/env python3
"""Ratios of one run_foundation.sh run: Strata against its peers, same data, same run.

Usage: summarize_foundation.py OUT_DIR
"""
import json, os, sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def main():
    out = sys.argv[1]
    strata = rows(os.path.join(out, "upsert-strata.jsonl"))
    edge = rows(os.path.join(out, "upsert-qdrant-edge.jsonl"))
    print("upsert, 384-d points/s (targets: relaxed >= 1.0x Qdrant Edge; durable 16 writers >= 0.5x relaxed)")
    for r in strata:
        line = f"  strata {r['mode']:7s} batch {r['batch']:5d} writers {r['writers']:2d}: {r['points_per_s']:>9,.0f}"
        if r["mode"] == "relaxed":
            peer = [e for e in edge if e["batch"] == r["batch"] and e["writers"] == 1]
            if peer:
                line += f"   vs qdrant-edge (1 writer) {peer[0]['points_per_s']:>9,.0f} = {r['points_per_s'] / peer[0]['points_per_s']:.2f}x"
        else:
            relaxed = [x for x in strata if x["mode"] == "relaxed" and x["batch"] == r["batch"] and x["writers"] == r["writers"]]
            if relaxed:
                line += f"   durable/relaxed = {r['points_per_s'] / relaxed[0]['points_per_s']:.2f}x"
            line += f"   ({r['records_per_group_commit']:.1f} records per fdatasync)"
        print(line)
    for e in edge:
        print(f"  qdrant-edge batch {e['batch']:5d} writers {e['writers']:2d}: {e['points_per_s']:>9,.0f} "
              f"({e['points_per_s_with_flush']:,.0f} including the final flush)")

    scan = rows(os.path.join(out, "scan-strata.jsonl"))
    faiss = rows(os.path.join(out, "scan-faiss.jsonl"))
    print("exact top-10 scan, one thread, one query at a time (target >= 0.8x FAISS)")
    mine = [s for s in scan if s.get("bench") == "scan"]
    flat = [f for f in faiss if f.get("bench") == "faiss-flat"]
    batch = [f for f in faiss if f.get("bench") == "faiss-flat-batch"]
    if mine and flat:
        m, f = mine[0], flat[0]
        print(f"  strata {m['qps']:.1f} qps (recall {m['recall10']}, {m.get('isa')}) vs faiss-flat {f['qps']:.1f} qps "
              f"(recall {f['recall10']}) = {m['qps'] / f['qps']:.2f}x")
    engine = [s for s in scan if s.get("bench") == "scan-engine"]
    if engine and flat:
        e, f = engine[0], flat[0]
        print(f"  strata through Collection.search {e['qps']:.1f} qps (recall {e['recall10']}) vs faiss-flat = {e['qps'] / f['qps']:.2f}x")
    if batch:
        print(f"  for information: faiss-flat-batch (all queries in one sgemm call) {batch[0]['qps']:.1f} qps")


if __name__ == "__main__":
    main()
