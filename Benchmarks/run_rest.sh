#!/usr/bin/env bash
# REST at wire speed (issue 25): the server's JSON work and its HTTP path against
# the embedded API, in one run. Release build only.
#   1. `strata bench json`: decode (and encode) MB/s of generated bodies, the
#      server's codec against Foundation's in the same process.
#   2. REST upsert: bodies of BATCH points from the data set (as qdrant-client
#      writes them, Benchmarks/rest_bodies.py) sent by `strata bench rest-upsert`
#      (requests prepared in memory, one keep-alive connection per writer),
#      WRITERS at a time, `?wait=true` (durable, as every Strata write); points/s
#      = points / wall time. Then the same bodies through one curl (which reads
#      each body file and copies it through its upload buffer: its own cost is in
#      that figure). Embedded: `strata bench upsert` on the same vectors, payloads,
#      distance (Cosine), batch and writers, durable.
#   3. Search: once the optimizer has indexed the upserts (collection green, every
#      vector indexed), wrk (not Python: the load generator must not be the bottleneck),
#      CLIENTS connections, top-10 queries from the data set's query.fvecs, RUN_SECONDS s;
#      then `strata bench search` on the same data directory, CLIENTS threads.
#      Ratio = embedded QPS / HTTP QPS.
# Client and server share this machine's cores: compare runs on one machine only.
#
# Usage: Benchmarks/run_rest.sh [DATA_DIR] [OUT_DIR]
#   env: POINTS (20000), BATCH (1000), WRITERS ("1 2"), CLIENTS (16), RUN_SECONDS (20)
#   (not SECONDS: bash gives that name the seconds since the shell started)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-$HOME/strata-data/embed-384-100k}
OUT=${2:-bench-results/rest-$(date +%Y%m%d-%H%M%S)}
POINTS=${POINTS:-20000}
BATCH=${BATCH:-1000}
WRITERS=${WRITERS:-"1 2"}
CLIENTS=${CLIENTS:-16}
SECONDS_RUN=${RUN_SECONDS:-20}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -f "$DATA/base.fvecs" ] || { echo "no data set at $DATA (see Benchmarks/run_ann.sh)" >&2; exit 1; }

swift build -c release --product strata >/dev/null
STRATA=.build/release/strata
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
echo "== machine"; { nproc; grep -m1 'model name' /proc/cpuinfo; uptime; } | tee "$OUT/machine.txt"

echo "== codec: strata bench json"
$STRATA bench json --points "$BATCH" | tee "$OUT/json.jsonl"

echo "== bodies"
python3 Benchmarks/rest_bodies.py --data "$DATA" --points "$POINTS" --batch "$BATCH" --out "$WORK/bodies" | tee "$OUT/bodies.json"
DIM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dim"])' "$OUT/bodies.json")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
$STRATA serve --data-dir "$WORK/db" --port "$PORT" --log-level warning &
SERVER=$!
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done

echo "== REST upsert ($BATCH points per request)"
files=("$WORK"/bodies/upsert-*.json)
for writers in $WRITERS; do
  collection=rest$writers
  curl -sf -X PUT "$URL/collections/$collection" -H 'content-type: application/json' \
    -d "{\"vectors\":{\"size\":$DIM,\"distance\":\"Cosine\"}}" >/dev/null
  # The load generator: prepared requests in memory, one keep-alive connection per writer.
  $STRATA bench rest-upsert --url "$URL" --collection "$collection" --points "$POINTS" --writers "$writers" \
    "${files[@]}" | tee -a "$OUT/rest-upsert.jsonl"
done

echo "== REST upsert through curl (1 writer; curl reads and sends each body, its cost included)"
curl -sf -X PUT "$URL/collections/curl1" -H 'content-type: application/json' \
  -d "{\"vectors\":{\"size\":$DIM,\"distance\":\"Cosine\"}}" >/dev/null
args=()
for f in "${files[@]}"; do
  [ ${#args[@]} -gt 0 ] && args+=(--next)
  args+=(-s -o /dev/null -w '%{http_code}\n' -X PUT "$URL/collections/curl1/points?wait=true"
    -H 'content-type: application/json' --data-binary "@$f")
done
start=$(date +%s.%N)
codes=$(curl "${args[@]}")
end=$(date +%s.%N)
failed=$(echo "$codes" | grep -vc '^200$' || true)
python3 - "$POINTS" "$start" "$end" "$failed" <<'PY' | tee "$OUT/rest-upsert-curl.jsonl"
import json, sys
points, start, end, failed = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(json.dumps({"bench": "rest-upsert-curl", "points": points, "writers": 1, "seconds": round(end - start, 3),
                  "points_per_s": round(points / (end - start)), "failed_requests": failed}))
PY

# The optimizer indexes what the upserts wrote: search only once it is done, in every
# collection (one still indexing would take a core from the searches), as the embedded
# search below (a reopened, fully indexed collection) does.
indexed() {
  curl -sf "$URL/collections/$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; sys.exit(0 if r["status"] == "green" and r["indexed_vectors_count"] >= r["points_count"] else 1)'
}
for _ in $(seq 600); do
  all=1
  for writers in $WRITERS; do indexed "rest$writers" || all=0; done
  indexed curl1 || all=0
  [ $all = 1 ] && break
  sleep 0.5
done
echo "== REST search: wrk, $CLIENTS connections, ${SECONDS_RUN}s"
wrk -t2 -c"$CLIENTS" -d"${SECONDS_RUN}s" --latency -s Benchmarks/rest_query.lua "$URL" -- "$WORK/bodies/queries.jsonl" rest1 \
  | tee "$OUT/wrk-search.txt"
kill -TERM $SERVER; wait $SERVER || true

echo "== embedded upsert (same vectors, payloads, distance, batch, writers; durable)"
$STRATA bench upsert --data "$DATA" --points "$POINTS" --batch "$BATCH" --writers "$(echo $WRITERS | tr ' ' ',')" \
  --mode durable --distance Cosine --payload small --work-dir "$WORK" | tee "$OUT/embedded-upsert.jsonl"
echo "== embedded search ($CLIENTS threads)"
$STRATA bench search --data-dir "$WORK/db" --collection rest1 --threads "$CLIENTS" --seconds "$SECONDS_RUN" \
  | tee "$OUT/embedded-search.jsonl"

python3 - "$OUT" <<'PY' | tee "$OUT/summary.json"
import json, re, sys, os
out = sys.argv[1]
lines = lambda name: [json.loads(l) for l in open(os.path.join(out, name)) if l.strip().startswith("{")]
rest = {r["writers"]: r for r in lines("rest-upsert.jsonl")}
embedded = {}
for r in lines("embedded-upsert.jsonl"):
    embedded[r.get("writers")] = r
wrk = open(os.path.join(out, "wrk-search.txt")).read()
http_qps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
search = lines("embedded-search.jsonl")[-1]["result"]
summary = {"search_http_qps": http_qps, "search_embedded_qps": round(search["qps"]),
           "search_embedded_over_http": round(search["qps"] / http_qps, 2) if http_qps else None,
           "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)) else 0}
curl = lines("rest-upsert-curl.jsonl")
if curl:
    summary["upsert_curl_w1_points_per_s"] = curl[-1]["points_per_s"]
for writers, r in rest.items():
    e = embedded.get(writers, {})
    e_rate = e.get("points_per_s") or e.get("points_per_sec")
    summary[f"upsert_w{writers}"] = {"rest_points_per_s": r["points_per_s"], "embedded_points_per_s": e_rate,
                                     "rest_over_embedded": round(r["points_per_s"] / e_rate, 3) if e_rate else None}
print(json.dumps(summary, indent=1))
PY
