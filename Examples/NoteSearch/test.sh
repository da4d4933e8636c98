#!/usr/bin/env bash
# Builds NoteSearch and runs the same commands twice: on an embedded data directory and
# against a real `strata serve` in a separate process (through StrataClient). The two
# runs must print the same results, and the results must be the expected ones.
# Usage: Examples/NoteSearch/test.sh STRATA_BINARY
set -euo pipefail
cd "$(dirname "$0")"
strata="${1:?usage: test.sh STRATA_BINARY (the strata executable that serves)}"
strata="$(cd "$(dirname "$strata")" && pwd)/$(basename "$strata")"

echo "example: building NoteSearch"
swift build -q
bin="$(swift build --show-bin-path)/note-search"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

session() {  # the same commands on the backend given as arguments
  "$bin" "$@" index Notes --vectors vectors.json
  "$bin" "$@" count
  "$bin" "$@" search "bike tyre"
  "$bin" "$@" search "flour dough" --limit 2
  "$bin" "$@" similar garden.md --limit 2
  "$bin" "$@" index Notes --vectors vectors.json   # again: replaces
  "$bin" "$@" count
}

echo "example: embedded"
session --data "$work/data" >"$work/embedded.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STRATA_API_KEY=example-key "$strata" serve --data-dir "$work/server" --port "$port" --no-grpc >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then break; fi
  sleep 0.05
done
echo "example: against strata serve on port $port"
session --server "http://127.0.0.1:$port" --api-key example-key >"$work/server.txt"

if ! diff -u "$work/embedded.txt" "$work/server.txt"; then
  echo "example: the embedded and the server runs differ"
  exit 1
fi
cat "$work/embedded.txt"
# What the notes say: a tyre question finds the tyre note first, a dough question the
# two kitchen notes, and the garden's nearest dense neighbour is the compost.
sed -n 3p "$work/embedded.txt" | grep -q "bikes.txt" || { echo "example: 'bike tyre' did not find bikes.txt first"; exit 1; }
sed -n 8,9p "$work/embedded.txt" | grep -q "pasta.md" || { echo "example: 'flour dough' did not find pasta.md"; exit 1; }
sed -n 10p "$work/embedded.txt" | grep -q "compost.txt" || { echo "example: garden.md's nearest is not compost.txt"; exit 1; }
echo "example: ok (embedded and server agree)"
