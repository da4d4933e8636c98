#!/usr/bin/env bash
# Multivector (max_sim) benchmark: Strata (release, embedded) and Qdrant Edge on the
# same ColBERT-like data in one run. Usage: Benchmarks/run_multivector.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR is generated if missing (Benchmarks/multivector_data.py, 20k passages).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/mv-data/colbert20k}
OUT=${2:-/tmp/mv-results/run-$(date +%Y%m%d-%H%M%S)}
PY=${PEERS_PYTHON:-/work/main/.venv-peers/bin/python}
mkdir -p "$OUT"
[ -f "$DATA/meta.json" ] || "$PY" Benchmarks/multivector_data.py "$DATA"
swift build -c release --product strata >/dev/null
BIN=$(swift build -c release --show-bin-path)/strata
STORE=$(mktemp -d)/store
"$BIN" bench multivector --data "$DATA" --store "$STORE" --ef 100 400 > "$OUT/strata.jsonl" 2> "$OUT/strata.err"
rm -rf "$(dirname "$STORE")"
"$PY" Benchmarks/multivector_peer.py "$DATA" --ef 100 > "$OUT/edge.jsonl" 2> "$OUT/edge.err"
cat "$OUT"/strata.jsonl "$OUT"/edge.jsonl
echo "results in $OUT" >&2
