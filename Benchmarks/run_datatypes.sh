#!/usr/bin/env bash
# Vector datatypes (issue 19, item 6): what float16 and uint8 storage cost in
# recall and QPS against float32, with hnswlib and FAISS in the same run as the
# yardstick, on embed-384-100k (m 16, ef_construct 100, one query thread).
#
# Usage: Benchmarks/run_datatypes.sh [OUT_DIR]
#   uint8 runs on the Cosine set mapped affinely onto 0…255 and searched by
#   Euclid (see `strata bench ann --help`): unit vectors keep their neighbour
#   order, so the recall loss is the byte rounding's.
# Release build only; compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench-results/datatypes-$(date +%Y%m%d-%H%M%S)}
DATA_ROOT=${DATA_ROOT:-$HOME/strata-data}
VENV=${VENV:-.venv-peers}
SHARED=${SHARED:-../shared/bench}
EFS=${EFS:-16,32,48,64,96,128,256}
STRATA=${STRATA:-.build/release/strata}
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c 'import faiss, hnswlib, numpy' 2>/dev/null; then
  echo "== setting up $VENV (peers from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy faiss-cpu hnswlib usearch qdrant-edge-py matplotlib
fi
DATA="$DATA_ROOT/embed-384-100k"
if [ ! -f "$DATA/meta.json" ]; then
  echo "== generating $DATA"
  "$VENV/bin/python" "$SHARED/gen_dataset.py" --kind embed --n 100000 --dim 384 --out "$DATA"
fi
if [ "$STRATA" = .build/release/strata ]; then ./scripts/bootstrap.sh; swift build -c release >/dev/null; fi
echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2; } | tee "$OUT/machine.txt"

echo "== peers"
"$VENV/bin/python" "$SHARED/peers_bench.py" "$DATA" --peers hnswlib,faiss --ef "$EFS" | tee "$OUT/embed-384-100k-peers.jsonl"
for datatype in float32 float16 uint8; do
  echo "== strata $datatype"
  $STRATA bench ann --data "$DATA" --store "$OUT/store-$datatype" --datatype "$datatype" --segments 1 \
    --ef "$EFS" --json | tee "$OUT/embed-384-100k-strata-$datatype.jsonl"
done
echo "== strata float16 + int8 codes (oversampling 2)"
$STRATA bench ann --data "$DATA" --store "$OUT/store-float16-int8" --datatype float16 --segments 1 \
  --quantization int8 --oversampling 2 --ef "$EFS" --json | tee "$OUT/embed-384-100k-strata-float16-int8.jsonl"
rm -rf "$OUT"/store-*

echo "== summary"
"$VENV/bin/python" Benchmarks/summarize_ann.py "$OUT" | tee "$OUT/summary.txt"
