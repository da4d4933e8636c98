#!/usr/bin/env bash
# Sparse + hybrid benchmark: Strata (release, embedded) and Qdrant Edge on the same
# SPLADE-like data in one run. Usage: Benchmarks/run_sparse.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR is generated if missing (Benchmarks/sparse_data.py, 200k documents).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/sparse-data/splade200k}
OUT=${2:-/tmp/sparse-results/run-$(date +%Y%m%d-%H%M%S)}
PY=${PEERS_PYTHON:-/work/main/.venv-peers/bin/python}
mkdir -p "$OUT"
[ -f "$DATA/meta.json" ] || "$PY" Benchmarks/sparse_data.py "$DATA" --docs 200000 --queries 1000
swift build -c release --product strata >/dev/null
BIN=$(swift build -c release --show-bin-path)/strata
STORE=$(mktemp -d)/store
"$BIN" bench sparse --data "$DATA" --store "$STORE" --repeat 2 > "$OUT/strata.jsonl" 2> "$OUT/strata.err"
STRATA_SPARSE_NO_PRUNING=1 "$BIN" bench sparse --data "$DATA" --store "$STORE" --no-hybrid --repeat 2 > "$OUT/strata-noprune.jsonl" 2>> "$OUT/strata.err"
rm -rf "$(dirname "$STORE")"
"$PY" Benchmarks/sparse_peer.py "$DATA" > "$OUT/edge.jsonl" 2> "$OUT/edge.err"
cat "$OUT"/strata.jsonl "$OUT"/strata-noprune.jsonl "$OUT"/edge.jsonl
echo "results in $OUT" >&2
