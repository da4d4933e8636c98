#!/usr/bin/env bash
# The filtered-search benchmark (issue 5): `strata bench filtered` next to Qdrant
# Edge (Benchmarks/filtered_peer.py) on the same data, same field indexes and the
# same filters (Benchmarks/filtered_filters.json), in one run; then a table of
# recall@10, QPS and the QPS ratio per (filter, ef).
#
# Usage: Benchmarks/run_filtered.sh [OUT_DIR]
#   Data: $DATA_ROOT/embed-384-100k (generated with gen_dataset.py --payload when
#   missing; DATA_ROOT defaults to ~/strata-data). QUERIES (default 1000), EFS
#   (default 64,128). Release build only; compare ratios from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench-results/filtered-$(date +%Y%m%d-%H%M%S)}
DATA_ROOT=${DATA_ROOT:-$HOME/strata-data}
DATA=${DATA:-$DATA_ROOT/embed-384-100k}
VENV=${VENV:-.venv-peers}
SHARED=${SHARED:-../shared/bench}
QUERIES=${QUERIES:-1000}
EFS=${EFS:-64,128}
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c 'import qdrant_edge, numpy' 2>/dev/null; then
  echo "== setting up $VENV (numpy, qdrant-edge-py from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy qdrant-edge-py
fi
if [ ! -f "$DATA/payload.jsonl" ]; then
  echo "== generating $DATA (with payloads)"
  "$VENV/bin/python" "$SHARED/gen_dataset.py" --kind embed --n 100000 --dim 384 --out "$DATA" --payload
fi

./scripts/bootstrap.sh
swift build -c release >/dev/null
# A copy, so a rebuild during the run cannot change the binary under it.
BIN="$OUT/strata"
cp .build/release/strata "$BIN"

echo "== qdrant-edge"
"$VENV/bin/python" Benchmarks/filtered_peer.py "$DATA" --filters Benchmarks/filtered_filters.json \
  --queries "$QUERIES" --ef "$EFS" > "$OUT/qdrant-edge.jsonl"
echo "== strata"
"$BIN" bench filtered --data "$DATA" --filters Benchmarks/filtered_filters.json --queries "$QUERIES" --ef "$EFS" --json \
  > "$OUT/strata.jsonl"
echo "== strata, plain filtered walk (acorn off), the graph-walking filters only"
python3 - > "$OUT/graph-filters.json" <<'PY'
import json
spec = json.load(open("Benchmarks/filtered_filters.json"))
spec["filters"] = [f for f in spec["filters"] if f["name"] in ("price_10pct", "category_10pct", "price_50pct")]
print(json.dumps(spec))
PY
"$BIN" bench filtered --data "$DATA" --filters "$OUT/graph-filters.json" --queries "$QUERIES" --ef "$EFS" --acorn off --json \
  > "$OUT/strata-acorn-off.jsonl"
rm -f "$BIN"

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys, os
out = sys.argv[1]
rows = {}
for name in ("strata", "qdrant-edge"):
    for line in open(os.path.join(out, f"{name}.jsonl")):
        d = json.loads(line)
        rows[(name, d["filter"], d["ef"])] = d
keys = sorted({(f, ef) for (_, f, ef) in rows}, key=lambda k: (rows[("strata", k[0], k[1])]["selectivity"], k[1]))
print("| filter | selectivity | ef | Strata recall@10 | Strata QPS | Strata p99 ms | Qdrant Edge recall@10 | Qdrant Edge QPS | Qdrant Edge p99 ms | QPS ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for f, ef in keys:
    s, q = rows[("strata", f, ef)], rows.get(("qdrant-edge", f, ef))
    if q is None:
        continue
    print(f"| {f} | {s['selectivity']:.2%} | {ef} | {s['recall10']:.4f} | {s['qps']:.0f} | {s['p99_ms']:.2f} | "
          f"{q['recall10']:.4f} | {q['qps']:.0f} | {q['p99_ms']:.2f} | {s['qps'] / q['qps']:.2f}x |")
off = {}
path = os.path.join(out, "strata-acorn-off.jsonl")
if os.path.exists(path):
    for line in open(path):
        d = json.loads(line)
        off[(d["filter"], d["ef"])] = d
    print()
    print("| filter | ef | two-hop recall@10 | two-hop QPS | plain walk recall@10 | plain walk QPS | two-hop / plain |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (f, ef), d in sorted(off.items(), key=lambda kv: (rows[("strata", kv[0][0], kv[0][1])]["selectivity"], kv[0][1])):
        s = rows[("strata", f, ef)]
        print(f"| {f} | {ef} | {s['recall10']:.4f} | {s['qps']:.0f} | {d['recall10']:.4f} | {d['qps']:.0f} | {s['qps'] / d['qps']:.2f}x |")
PY
echo "results in $OUT"
