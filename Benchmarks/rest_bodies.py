#!/usr/bin/env python3
"""Request bodies for Benchmarks/run_rest.sh, written as qdrant-client writes them.

From a TEXMEX data set (base.fvecs, query.fvecs): upsert bodies of --batch points
each (ids from 0, the base vectors' float32 values printed as Python prints the
double they widen to, i.e. what `json.dumps(ndarray.tolist())` sends, plus a small
payload), and one query body per line for wrk (`{"query": [...], "limit": 10}`).
Standard library only.
"""
import argparse
import array
import json
import os
import struct


def read_fvecs(path, limit):
    rows = []
    with open(path, "rb") as f:
        while len(rows) < limit:
            head = f.read(4)
            if not head:
                break
            (dim,) = struct.unpack("<i", head)
            row = array.array("f")
            row.frombytes(f.read(4 * dim))
            rows.append(row.tolist())
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    base = read_fvecs(os.path.join(args.data, "base.fvecs"), args.points)
    for start in range(0, len(base), args.batch):
        points = [
            {"id": i, "vector": base[i], "payload": {"group": i % 97, "name": f"point-{i}"}}
            for i in range(start, min(start + args.batch, len(base)))
        ]
        with open(os.path.join(args.out, f"upsert-{start // args.batch:05d}.json"), "w") as f:
            json.dump({"points": points}, f, separators=(",", ":"))
    queries = read_fvecs(os.path.join(args.data, "query.fvecs"), args.queries)
    with open(os.path.join(args.out, "queries.jsonl"), "w") as f:
        for query in queries:
            f.write(json.dumps({"query": query, "limit": 10}, separators=(",", ":")) + "\n")
    print(json.dumps({"points": len(base), "bodies": (len(base) + args.batch - 1) // args.batch,
                      "dim": len(base[0]), "queries": len(queries)}))


if __name__ == "__main__":
    main()
