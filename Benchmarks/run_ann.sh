#!/usr/bin/env bash
# The ANN benchmarks (issue 4): Strata's HNSW next to hnswlib, FAISS, USearch and
# Qdrant Edge on the same data, same m / ef_construct, in one run; then a summary
# of the ratios at recall@10 = 0.95 and the recall/QPS plots.
#
# Usage: Benchmarks/run_ann.sh [OUT_DIR]
#   Data sets (generated with shared/bench/gen_dataset.py when missing, under
#   $DATA_ROOT, default ~/strata-data):
#     embed-384-100k     float32 and int8, plus a cold run (page cache dropped)
#     clustered-128-1m   float32 and int8 (set SKIP_1M=1 to leave it out: ~20 min)
#     embed-1024-100k    float32 and binary (1 and 2 bits, asymmetric 8-bit query)
#   OUT_DIR  where the JSON lines, summary and plots go (default bench-results/ann-<timestamp>)
# Release build only. Absolute numbers drift between runs on shared machines;
# compare the ratios from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench-results/ann-$(date +%Y%m%d-%H%M%S)}
DATA_ROOT=${DATA_ROOT:-$HOME/strata-data}
VENV=${VENV:-.venv-peers}
SHARED=${SHARED:-../shared/bench}
EFS=${EFS:-16,32,48,64,96,128,256}
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c 'import faiss, hnswlib, usearch, qdrant_edge, numpy, matplotlib' 2>/dev/null; then
  echo "== setting up $VENV (peers and matplotlib from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy faiss-cpu hnswlib usearch qdrant-edge-py matplotlib
fi
dataset() {  # name kind n dim
  if [ ! -f "$DATA_ROOT/$1/meta.json" ]; then
    echo "== generating $DATA_ROOT/$1"
    "$VENV/bin/python" "$SHARED/gen_dataset.py" --kind "$2" --n "$3" --dim "$4" --out "$DATA_ROOT/$1"
  fi
}
dataset embed-384-100k embed 100000 384
dataset embed-1024-100k embed 100000 1024
[ "${SKIP_1M:-0}" = 1 ] || dataset clustered-128-1m clustered 1000000 128

./scripts/bootstrap.sh
swift build -c release >/dev/null
STRATA=.build/release/strata
echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2; $STRATA --version 2>/dev/null || true; } | tee "$OUT/machine.txt"

run() {  # data-name quantizations peers [strata extra args]
  local name=$1 quants=$2 peers=$3; shift 3
  local data="$DATA_ROOT/$name"
  echo "== $name: peers ($peers)"
  "$VENV/bin/python" "$SHARED/peers_bench.py" "$data" --peers "$peers" --ef "$EFS" | tee "$OUT/$name-peers.jsonl"
  for q in $quants; do
    local over=1
    case $q in int8) over=2 ;; binary|binary2|pq) over=4 ;; esac
    echo "== $name: strata ($q, oversampling $over)"
    $STRATA bench ann --data "$data" --store "$OUT/store-$name-$q" --quantization "$q" --oversampling "$over" \
      --ef "$EFS" --json "$@" | tee "$OUT/$name-strata-$q.jsonl"
  done
}
run embed-384-100k "none int8" hnswlib,faiss,usearch,qdrant-edge,qdrant-edge-int8
echo "== embed-384-100k: strata (none), two segments (default_segment_number 2: what a multi-segment query costs)"
$STRATA bench ann --data "$DATA_ROOT/embed-384-100k" --store "$OUT/store-embed-384-100k-2seg" --segments 2 \
  --ef "$EFS" --json | tee "$OUT/embed-384-100k-strata-none-2seg.jsonl"
echo "== embed-384-100k: strata int8, cold (page cache dropped before each ef)"
$STRATA bench ann --data "$DATA_ROOT/embed-384-100k" --store "$OUT/store-embed-384-100k-int8" --quantization int8 \
  --oversampling 2 --ef "$EFS" --cold --json | tee "$OUT/embed-384-100k-strata-int8-cold.jsonl"
run embed-1024-100k "none binary binary2" hnswlib,qdrant-edge
[ "${SKIP_1M:-0}" = 1 ] || run clustered-128-1m "none int8" hnswlib,qdrant-edge
rm -rf "$OUT"/store-*

echo "== summary"
"$VENV/bin/python" Benchmarks/summarize_ann.py "$OUT" | tee "$OUT/summary.txt"
