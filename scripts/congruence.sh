#!/usr/bin/env bash
# Runs qdrant-client's own congruence tests (tests/congruence_tests in the
# qdrant-client repository) against `strata serve`: each test drives the server
# and qdrant-client's exact local mode with the same random data and compares
# every answer. Their code is never part of this repository: pass a checkout.
#
#   scripts/congruence.sh QDRANT_CLIENT_CHECKOUT [pytest args...]
#
# e.g.  git clone --branch v1.18.0 https://github.com/qdrant/qdrant-client /tmp/qc
#       scripts/congruence.sh /tmp/qc                      # every file
#       scripts/congruence.sh /tmp/qc -k test_count        # one test
#
# The tests expect a server on localhost:6333 (REST) and 6334 (gRPC), so those
# ports must be free. The client is the checkout's own qdrant_client (its
# tests use its API, and its local mode is their reference), installed into
# .venv-congruence with its dependencies; CONGRUENCE_CLIENT=<pip requirement>
# installs another (e.g. qdrant-client==1.20.0, whose local mode mirrors the
# server more closely, for tests that still run with it). The server is
# $STRATA_BIN or the release build (built if missing), on a fresh data
# directory. Prints passed/failed per file, then the failures; the full pytest
# output is in $out/pytest.log ($out printed at the end). Exit code 0 only when
# every test passed.
#
# CONGRUENCE_GRPC=1 forces every remote client the tests make onto gRPC
# (prefer_grpc=True, port 6334), their REST clients included, so the whole
# comparison runs over Qdrant's gRPC API (a pytest plugin written next to the
# run, strata_force_grpc.py).
set -euo pipefail
cd "$(dirname "$0")/.."

checkout="${1:?usage: scripts/congruence.sh QDRANT_CLIENT_CHECKOUT [pytest args...]}"
shift
checkout="$(cd "$checkout" && pwd)"
[ -d "$checkout/tests/congruence_tests" ] || { echo "congruence: $checkout has no tests/congruence_tests" >&2; exit 2; }

client="${CONGRUENCE_CLIENT:-$checkout}"
venv=.venv-congruence
if [ ! -x "$venv/bin/python" ]; then
  echo "congruence: creating $venv"
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$client"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$client" pytest pytest-timeout

binary="${STRATA_BIN:-}"
if [ -z "$binary" ]; then
  swift build -c release --product strata
  binary="$(swift build -c release --show-bin-path)/strata"
fi

out="$(mktemp -d -t strata-congruence-XXXXXX)"
"$binary" serve --data-dir "$out/data" --port 6333 >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if curl -sf http://127.0.0.1:6333/readyz >/dev/null 2>&1; then break; fi
  kill -0 $server 2>/dev/null || { echo "congruence: strata serve exited; log: $out/server.log" >&2; exit 1; }
  sleep 0.1
done

echo "congruence: tests of $(git -C "$checkout" describe --tags 2>/dev/null || echo "$checkout"), client $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("qdrant-client"))'), server $binary"
status=0
# The installed qdrant_client is used: the tests run from a directory holding
# only a link to the checkout's `tests` package (running inside the checkout
# would import the checkout's own qdrant_client instead).
mkdir "$out/run"
ln -s "$checkout/tests" "$out/run/tests"
[ -f "$checkout/pyproject.toml" ] && cp "$checkout/pyproject.toml" "$out/run/"
plugins=()
if [ "${CONGRUENCE_GRPC:-0}" = 1 ]; then
  cat > "$out/run/strata_force_grpc.py" <<'PY'
"""Every remote QdrantClient the congruence tests make talks gRPC (local mode stays local)."""
import qdrant_client

_init = qdrant_client.QdrantClient.__init__


def _grpc_init(self, location=None, *args, **kwargs):
    if location != ":memory:" and kwargs.get("path") is None:
        kwargs["prefer_grpc"] = True
    _init(self, location, *args, **kwargs)


qdrant_client.QdrantClient.__init__ = _grpc_init
PY
  plugins=(-p strata_force_grpc)
  echo "congruence: every remote client forced onto gRPC"
fi
(cd "$out/run" && PYTHONPATH="$out/run" "$OLDPWD/$venv/bin/python" -m pytest tests/congruence_tests \
  -p no:cacheprovider ${plugins[@]+"${plugins[@]}"} --timeout 600 -q -rf --junitxml "$out/junit.xml" "$@") \
  >"$out/pytest.log" 2>&1 || status=$?
[ "$client" = "$checkout" ] || ! grep -q "$checkout/qdrant_client" "$out/pytest.log" || {
  echo "congruence: the checkout's qdrant_client was imported instead of $client" >&2
  status=1
}

"$venv/bin/python" - "$out/junit.xml" <<'EOF'
import collections, sys, xml.etree.ElementTree as ET
counts = collections.defaultdict(lambda: [0, 0, 0])
failures = []
for case in ET.parse(sys.argv[1]).iter("testcase"):
    file = case.get("classname", "").split(".")[-1] or "?"
    outcome = 0
    for child in case:
        if child.tag in ("failure", "error"):
            outcome = 1
            failures.append(f"{file}::{case.get('name')}: {(child.get('message') or '').splitlines()[0][:160] if child.get('message') else child.tag}")
        elif child.tag == "skipped":
            outcome = 2
    counts[file][outcome] += 1
total = [0, 0, 0]
print(f"{'file':48} {'passed':>7} {'failed':>7} {'skipped':>8}")
for file in sorted(counts):
    p, f, s = counts[file]
    total = [total[0] + p, total[1] + f, total[2] + s]
    print(f"{file:48} {p:7} {f:7} {s:8}")
print(f"{'total':48} {total[0]:7} {total[1]:7} {total[2]:8}")
if failures:
    print("\nfailures:")
    for line in failures:
        print("  " + line)
EOF
echo "congruence: pytest log $out/pytest.log, server log $out/server.log"
exit $status
