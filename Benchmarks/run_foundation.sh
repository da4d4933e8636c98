#!/usr/bin/env bash
# The foundation benchmarks (issue 2), each right next to its peer, on the same
# data, in one run:
#   upsert: `strata bench upsert` vs Qdrant Edge (Benchmarks/upsert_peer.py)
#   scan:   `strata bench scan`   vs FAISS IndexFlat, one thread (Benchmarks/flat_scan_peer.py)
# and a summary of the ratios. Release build only. Absolute numbers drift
# between runs on shared machines; compare ratios from the same run.
#
# Usage: Benchmarks/run_foundation.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  a TEXMEX data set (default ~/strata-data/embed-384-100k; generated
#             with shared/bench/gen_dataset.py if missing)
#   OUT_DIR   where the JSON lines go (default bench-results/<timestamp>)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-$HOME/strata-data/embed-384-100k}
OUT=${2:-bench-results/$(date +%Y%m%d-%H%M%S)}
VENV=${VENV:-.venv-peers}
SHARED=${SHARED:-../shared/bench}
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c 'import faiss, qdrant_edge, numpy' 2>/dev/null; then
  echo "== setting up $VENV (numpy, faiss-cpu, qdrant-edge-py from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy faiss-cpu qdrant-edge-py
fi
if [ ! -f "$DATA/meta.json" ]; then
  echo "== generating $DATA"
  "$VENV/bin/python" "$SHARED/gen_dataset.py" --kind embed --n 100000 --dim 384 --out "$DATA" --payload
fi

./scripts/bootstrap.sh
swift build -c release >/dev/null
STRATA=.build/release/strata

echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2; } | tee "$OUT/machine.txt"

echo "== upsert: strata"
$STRATA bench upsert --data "$DATA" --batch 100,1000 --writers 1,4,16 --mode relaxed,durable | tee "$OUT/upsert-strata.jsonl"
echo "== upsert: qdrant-edge"
"$VENV/bin/python" Benchmarks/upsert_peer.py "$DATA" --batch 100,1000 --writers 1 --repeat 3 | tee "$OUT/upsert-qdrant-edge.jsonl"

echo "== scan: strata"
$STRATA bench scan --data "$DATA" --queries 1000 --engine --json | tee "$OUT/scan-strata.jsonl"
echo "== scan: faiss"
"$VENV/bin/python" Benchmarks/flat_scan_peer.py --data "$DATA" --queries 1000 | tee "$OUT/scan-faiss.jsonl"

echo "== summary"
"$VENV/bin/python" Benchmarks/summarize_foundation.py "$OUT" | tee "$OUT/summary.txt"
