#!/usr/bin/env bash
# REST against gRPC through the official Python client (qdrant-client 1.20.0), each
# against the embedded ceiling, in one run. Release build unless STRATA is set.
#   1. `strata serve` on free REST and gRPC ports, a fresh data directory.
#   2. Benchmarks/transport_bench.py, for each transport (rest, grpc): a fresh collection
#      (the data set's dimension, Cosine), upsert of the first POINTS base vectors in
#      batches of BATCH (`client.upsert(..., wait=True)`, one client, sequential), wait
#      until indexed (green, indexed_vectors_count >= POINTS), then QUERIES top-10
#      `query_points` from query.fvecs with each count of CLIENTS (threads, one client
#      each): client points/s, QPS, p50/p99, and the server's own time per call from
#      /metrics (rest_responses_duration_seconds / grpc_responses_duration_seconds), so
#      transport share = 1 - server time / client time.
#   3. Server stopped (SIGTERM), then the embedded ceilings: `strata bench upsert` (same
#      vectors and batch, 1 writer, durable) and `strata bench search` on the server's
#      data directory (the grpc collection, or the last transport run), 1 thread and
#      the largest count of CLIENTS, RUN_SECONDS s each, with the same query.fvecs vectors
#      and the same engine call as the server's query_points (universal query, payload).
#      Then the 1-thread embedded search again, idling between searches as long as the
#      one-client server does (the client's mean time minus the server's): what waking
#      an idle thread costs on this machine, apart from the transport.
#   4. OUT_DIR/summary.md: the table, with the targets (gRPC upsert >= 0.5x embedded
#      points/s; server time per search <= 1.2x the embedded call).
# Client and server share this machine's cores: compare ratios from one run only.
#
# Usage: Benchmarks/run_transport.sh [DATA_DIR] [OUT_DIR]
#   env: POINTS (100000), BATCH (256), QUERIES (1000), CLIENTS ("1 8"),
#        TRANSPORTS ("rest grpc"), RUN_SECONDS (10, embedded search),
#        STRATA (a strata binary to use instead of building the release one),
#        SERVER_LOG (a file for the server's standard error; default: this terminal),
#        KEEP_WORK (1: keep the server's data directory and print it, for more runs on it)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-$HOME/strata-data/embed-384-100k}
OUT=${2:-bench-results/transport-$(date +%Y%m%d-%H%M%S)}
POINTS=${POINTS:-100000}
BATCH=${BATCH:-256}
QUERIES=${QUERIES:-1000}
CLIENTS=${CLIENTS:-"1 8"}
TRANSPORTS=${TRANSPORTS:-"rest grpc"}
SECONDS_RUN=${RUN_SECONDS:-10}
mkdir -p "$OUT"
[ -f "$DATA/base.fvecs" ] && [ -f "$DATA/query.fvecs" ] || { echo "no data set at $DATA (base.fvecs, query.fvecs; see Benchmarks/run_ann.sh)" >&2; exit 1; }

VENV=.venv-bench
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check qdrant-client==1.20.0 numpy

if [ -z "${STRATA:-}" ]; then
  swift build -c release --product strata >/dev/null
  STRATA=.build/release/strata
fi
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; if [ "${KEEP_WORK:-0}" = 1 ]; then echo "== kept $WORK"; else rm -rf "$WORK"; fi' EXIT
echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; uptime; } | tee "$OUT/machine.txt"
python3 -c 'import json,sys; print(json.dumps(dict(zip(["data","points","batch","queries","clients","strata"], sys.argv[1:]))))' \
  "$DATA" "$POINTS" "$BATCH" "$QUERIES" "$CLIENTS" "$STRATA" > "$OUT/config.jsonl"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
GRPC_PORT=$(free_port)
while [ "$GRPC_PORT" = "$PORT" ]; do GRPC_PORT=$(free_port); done
URL=http://127.0.0.1:$PORT
$STRATA serve --data-dir "$WORK/db" --port "$PORT" --grpc-port "$GRPC_PORT" --log-level warning 2>"${SERVER_LOG:-/dev/stderr}" &
SERVER=$!
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done

echo "== qdrant-client: $TRANSPORTS; $POINTS points, batch $BATCH; $QUERIES queries, clients $CLIENTS"
"$VENV/bin/python" Benchmarks/transport_bench.py --url "$URL" --grpc-port "$GRPC_PORT" --data "$DATA" \
  --points "$POINTS" --batch "$BATCH" --queries "$QUERIES" --clients "$CLIENTS" \
  --transports "$(echo $TRANSPORTS | tr ' ' ',')" | tee "$OUT/transport.jsonl"
kill -TERM $SERVER; wait $SERVER || true
SERVER=

echo "== embedded upsert (same vectors and batch, 1 writer, durable)"
$STRATA bench upsert --data "$DATA" --points "$POINTS" --batch "$BATCH" --writers 1 --mode durable \
  --work-dir "$WORK" | tee "$OUT/embedded-upsert.jsonl"
COLLECTION=$(echo $TRANSPORTS | tr ' ' '\n' | grep -x grpc || echo $TRANSPORTS | tr ' ' '\n' | tail -1)
MAX_CLIENTS=$(echo $CLIENTS | tr ' ' '\n' | sort -n | tail -1)
: > "$OUT/embedded-search.jsonl"
for threads in $(printf '%s\n' 1 "$MAX_CLIENTS" | sort -nu); do
  echo "== embedded search ($COLLECTION, $threads threads, ${SECONDS_RUN}s)"
  $STRATA bench search --data-dir "$WORK/db" --collection "$COLLECTION" --threads "$threads" \
    --seconds "$SECONDS_RUN" --limit 10 --queries "$DATA/query.fvecs" --with-payload \
    | tee -a "$OUT/embedded-search.jsonl"
done

# The one-client server idles between searches while the client works (the client's
# mean time minus the server's); the same search on an embedded thread that idles as
# long shows what waking up costs on this machine, apart from the transport.
PAUSE=$("$VENV/bin/python" - "$OUT/transport.jsonl" "$COLLECTION" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("bench") == "transport-search" and r.get("clients") == 1 and r.get("transport") == sys.argv[2] \
            and r.get("server_ms_per_call"):
        print(round(max(0.0, r["mean_ms"] - r["server_ms_per_call"]), 3))
        break
PY
)
: > "$OUT/embedded-search-paused.jsonl"
if [ -n "$PAUSE" ]; then
  echo "== embedded search ($COLLECTION, 1 thread idling ${PAUSE} ms between searches, ${SECONDS_RUN}s)"
  $STRATA bench search --data-dir "$WORK/db" --collection "$COLLECTION" --threads 1 \
    --seconds "$SECONDS_RUN" --limit 10 --queries "$DATA/query.fvecs" --with-payload --pause-ms "$PAUSE" \
    | tee -a "$OUT/embedded-search-paused.jsonl"
fi

echo "== summary ($OUT/summary.md)"
"$VENV/bin/python" Benchmarks/transport_bench.py --summary "$OUT"
