#!/usr/bin/env bash
# BM25 benchmark on a real text corpus (this machine's man pages): Strata (release,
# embedded) and Qdrant Edge on identical BM25 vectors, IDF applied by each engine at
# query time, in one run. Usage: Benchmarks/run_bm25.sh [DATA_DIR] [OUT_DIR]
# DATA_DIR is assembled if missing: Benchmarks/bm25_corpus.py (passages, queries),
# `strata bench bm25-encode` (CSR files), Benchmarks/bm25_ground_truth.py (exact top-10).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/bm25-data/man}
OUT=${2:-/tmp/bm25-results/run-$(date +%Y%m%d-%H%M%S)}
PY=${PEERS_PYTHON:-/work/main/.venv-peers/bin/python}
mkdir -p "$OUT"
swift build -c release --product strata >/dev/null
BIN=$(swift build -c release --show-bin-path)/strata
[ -f "$DATA/passages.jsonl" ] || "$PY" Benchmarks/bm25_corpus.py "$DATA" ${BM25_CORPUS_ARGS:-}
[ -f "$DATA/docs.indptr" ] || "$BIN" bench bm25-encode --corpus "$DATA"
[ -f "$DATA/gt.i32" ] || "$PY" Benchmarks/bm25_ground_truth.py "$DATA"
uptime > "$OUT/load.txt"
STORE=$(mktemp -d)/store
"$BIN" bench sparse --data "$DATA" --store "$STORE" --repeat 2 > "$OUT/strata.jsonl" 2> "$OUT/strata.err"
# The same store with the MaxScore pruning off: how much of the time pruning saves.
STRATA_SPARSE_NO_PRUNING=1 "$BIN" bench sparse --data "$DATA" --store "$STORE" --repeat 2 > "$OUT/strata-noprune.jsonl" 2>> "$OUT/strata.err"
rm -rf "$(dirname "$STORE")"
uptime >> "$OUT/load.txt"
"$PY" Benchmarks/sparse_peer.py "$DATA" > "$OUT/edge.jsonl" 2> "$OUT/edge.err"
uptime >> "$OUT/load.txt"
cp "$DATA/meta.json" "$OUT/meta.json"
cat "$OUT"/strata.jsonl "$OUT"/strata-noprune.jsonl "$OUT"/edge.jsonl
cat "$OUT/load.txt" >&2
echo "results in $OUT" >&2
