#!/usr/bin/env bash
# Search under concurrency (issue 24, item 3): top-10 queries with the default
# search params (hnsw_ef = ef_construct 100) from 1, 2, 8 and 32 concurrent
# clients, QPS and p50/p99, in one run:
#   - embedded: `strata bench search --threads N` (Swift threads calling
#     Collection.search, every query's latency timed);
#   - REST: `strata serve` on the same store, wrk with N connections (2 wrk
#     threads; wrk is C, so the load generator is not the bottleneck), query
#     bodies from the data set's query.fvecs (Benchmarks/rest_bodies.py);
#   - Qdrant Edge: Benchmarks/concurrency_peer.py, N Python threads on one shard.
# The store is built once by `strata bench ann` (the default configuration:
# one segment below max_segment_size). Client and server share this machine's
# cores: compare within one run only.
#
# Usage: Benchmarks/run_concurrency.sh [DATA_DIR] [OUT_DIR]
#   env: THREADS ("1 2 8 32"), RUN_SECONDS (5)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-$HOME/strata-data/embed-384-100k}
OUT=${2:-bench-results/concurrency-$(date +%Y%m%d-%H%M%S)}
THREADS=${THREADS:-"1 2 8 32"}
SECONDS_RUN=${RUN_SECONDS:-5}
VENV=${VENV:-.venv-peers}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -f "$DATA/base.fvecs" ] || { echo "no data set at $DATA (see Benchmarks/run_ann.sh)" >&2; exit 1; }
"$VENV/bin/python" -c 'import qdrant_edge, numpy' 2>/dev/null \
  || { echo "$VENV lacks qdrant-edge-py and numpy (Benchmarks/run_ann.sh sets it up)" >&2; exit 1; }

swift build -c release --product strata >/dev/null
STRATA=.build/release/strata
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; uptime; } | tee "$OUT/machine.txt"

echo "== building the store (strata bench ann, default configuration)"
$STRATA bench ann --data "$DATA" --store "$WORK/store" --ef 100 --queries 100 --json | tee "$OUT/build.jsonl"
python3 Benchmarks/rest_bodies.py --data "$DATA" --points 1 --queries 1000 --out "$WORK/bodies" >/dev/null

echo "== embedded: strata bench search"
for n in $THREADS; do
  $STRATA bench search --data-dir "$WORK/store" --collection ann --threads "$n" --seconds "$SECONDS_RUN" \
    --queries "$DATA/query.fvecs" | tee -a "$OUT/embedded.jsonl"
done

echo "== REST: strata serve + wrk"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
$STRATA serve --data-dir "$WORK/store" --port "$PORT" --no-grpc --log-level warning &
SERVER=$!
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
for n in $THREADS; do
  wrk -t"$((n < 2 ? 1 : 2))" -c"$n" -d"${SECONDS_RUN}s" --latency -s Benchmarks/rest_query.lua "$URL" \
    -- "$WORK/bodies/queries.jsonl" ann > "$OUT/wrk-$n.txt"
  echo "connections $n: $(grep -E 'Requests/sec' "$OUT/wrk-$n.txt")"
done
kill -TERM $SERVER; wait $SERVER || true
SERVER=

echo "== Qdrant Edge: Benchmarks/concurrency_peer.py"
"$VENV/bin/python" Benchmarks/concurrency_peer.py "$DATA" --threads "$(echo $THREADS | tr ' ' ',')" \
  --seconds "$SECONDS_RUN" | tee "$OUT/qdrant-edge.jsonl"

python3 - "$OUT" "$THREADS" <<'PY' | tee "$OUT/summary.txt"
import json, os, re, sys
out, threads = sys.argv[1], [int(x) for x in sys.argv[2].split()]
embedded = [json.loads(l)["result"] for l in open(os.path.join(out, "embedded.jsonl")) if l.startswith("{")]
edge = {r["threads"]: r for r in map(json.loads, open(os.path.join(out, "qdrant-edge.jsonl")))}
def wrk(n):
    text = open(os.path.join(out, f"wrk-{n}.txt")).read()
    qps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    def ms(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
    return qps, ms(50), ms(99), errors
print(f"{'clients':>7} | {'embedded QPS':>12} {'p99 ms':>7} | {'REST QPS':>9} {'p99 ms':>7} {'errors':>6} | {'Edge QPS':>9} {'p99 ms':>7} | {'emb/Edge':>8} {'REST/Edge':>9}")
for n, e in zip(threads, embedded):
    qps, _, p99, errors = wrk(n)
    g = edge.get(n, {})
    print(f"{n:>7} | {e['qps']:>12.0f} {e['p99_ms']:>7.2f} | {qps:>9.0f} {p99 or 0:>7.2f} {errors:>6} | {g.get('qps', 0):>9.0f} {g.get('p99_ms', 0):>7.2f} | "
          f"{e['qps'] / g['qps'] if g else 0:>7.2f}x {qps / g['qps'] if g else 0:>8.2f}x")
PY
