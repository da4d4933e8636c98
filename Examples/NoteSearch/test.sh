#!/usr/bin/env bash
# Builds NoteSearch and runs the same commands twice: on an embedded data directory and
# against a real `strata serve` in a separate process (through StrataClient). The two
# runs must print the same results, and the results must be the expected ones.
# Usage: Examples/NoteSearch/test.sh STRATA_BINARY
# EXAMPLE_SCRATCH_PATH=DIR builds in DIR (CI passes the main package's .build, whose
# dependencies are compiled already: about 30 s instead of 5 minutes on 2 cores).
set -euo pipefail
strata="${1:?usage: test.sh STRATA_BINARY (the strata executable that serves)}"
strata="$(cd "$(dirname "$strata")" && pwd)/$(basename "$strata")"
[ -x "$strata" ] || { echo "example: no strata executable at $strata"; exit 1; }
cd "$(dirname "$0")"

scratch=()
if [ -n "${EXAMPLE_SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$EXAMPLE_SCRATCH_PATH"); fi
echo "example: building NoteSearch"
swift build -q "${scratch[@]}"
bin="$(swift build "${scratch[@]}" --show-bin-path)/note-search"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

session() {  # the same commands on the backend given as arguments, each after a "> command" line
  for command in "index Notes --vectors vectors.json" count "search bike+tyre" "search flour+dough --limit 2" \
    "similar garden.md --limit 2" "index Notes --vectors vectors.json" count; do
    echo "> $command"
    # shellcheck disable=SC2046 # the words of the command, with + for spaces inside one argument
    "$bin" "$@" $(echo "$command" | sed 's/+/\x01/g') 2>&1 | tr '\001' ' ' || true
  done
}

echo "example: embedded"
session --data "$work/data" >"$work/embedded.txt"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
grpc_port=$(free_port)
STRATA_API_KEY=example-key "$strata" serve --data-dir "$work/server" --port "$port" --grpc-port "$grpc_port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "example: strata serve did not become ready:"; cat "$work/server.log"; exit 1; }
echo "example: against strata serve on port $port"
session --server "http://127.0.0.1:$port" --api-key example-key >"$work/server.txt"
echo "example: against strata serve over gRPC on port $grpc_port"
session --server "http://127.0.0.1:$port" --grpc "$grpc_port" --api-key example-key >"$work/grpc.txt"

if ! diff -u "$work/embedded.txt" "$work/server.txt"; then
  echo "example: the embedded and the server (REST) runs differ"
  exit 1
fi
if ! diff -u "$work/embedded.txt" "$work/grpc.txt"; then
  echo "example: the embedded and the server (gRPC) runs differ"
  exit 1
fi
cat "$work/embedded.txt"
# What the notes say: eight notes; a tyre question finds the tyre note first, a dough
# question the two kitchen notes, and the garden's nearest dense neighbour is the compost.
first() { grep -A1 -F -- "> $1" "$work/embedded.txt" | sed -n 2p; }
expect() { first "$1" | grep -q -- "$2" || { echo "example: after '$1' expected '$2', got '$(first "$1")'"; exit 1; }; }
expect "count" "^8$"
expect "search bike+tyre" "bikes.txt"
expect "search flour+dough --limit 2" "pasta.md\|bread.md"
[ "$(grep -A2 -F -- "> search flour+dough" "$work/embedded.txt" | grep -c "pasta.md\|bread.md")" = 2 ] ||
  { echo "example: 'flour dough' did not find the two kitchen notes"; exit 1; }
expect "similar garden.md --limit 2" "compost.txt"
echo "example: ok (embedded, REST and gRPC agree)"
