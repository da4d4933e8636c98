#!/usr/bin/env bash
# The whole test suite (what CI runs, after scripts/bootstrap.sh):
#   0. the formatting check: every Swift file as scripts/format.sh leaves it (.swift-format);
#   1. swift build, swift test (unit, fault-injection, crash and server tests, and the
#      two-backend suite: the same scenarios on the embedded engine and, through
#      StrataClient, on a real `strata serve`);
#   1b. the DocC documentation (scripts/docs.sh: no warnings, every public symbol documented)
#      and the example package (Examples/NoteSearch/test.sh: built, and run embedded and
#      against a server, with the same results);
#   2. the qdrant-client suite (Tests/client): a Python venv (.venv-client) with
#      qdrant-client 1.20.0 (the API level `GET /` reports), pytest and numpy from
#      PyPI drives a real `strata serve`, once over REST and once over gRPC
#      (STRATA_TRANSPORT=grpc: prefer_grpc=True; tests of REST itself are skipped),
#      then once over REST against a 3-node `strata cluster local` whose collections
#      have replication_factor 2 and Qdrant's default shard_number, one shard per node
#      (STRATA_TOPOLOGY=cluster; tests marked single_node are skipped with their reason;
#      test_cluster.py, which starts its own clusters, runs in the REST pass), and a
#      representative part of it (points, queries, searches, filters, collections, sparse
#      vectors, the distance matrix) over gRPC against such a cluster;
#   3. the dashboard's browser tests (Tests/dashboard): Selenium from PyPI drives Debian's
#      headless Chromium (/usr/bin/chromedriver) against a real `strata serve`.
# STRATA_SCRATCH_PATH=DIR builds in DIR instead of .build (for parallel worktrees).
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=()
if [ -n "${STRATA_SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$STRATA_SCRATCH_PATH"); fi

./scripts/format.sh --check
swift build "${scratch[@]}"
swift test "${scratch[@]}"
bin="$(swift build "${scratch[@]}" --show-bin-path)/strata"
./scripts/docs.sh
# The example builds against the dependencies compiled above (same scratch directory).
example_scratch="${STRATA_SCRATCH_PATH:-.build}"
case "$example_scratch" in /*) ;; *) example_scratch="$(pwd)/$example_scratch" ;; esac
EXAMPLE_SCRATCH_PATH="$example_scratch" Examples/NoteSearch/test.sh "$bin"

venv=.venv-client
if [ ! -x "$venv/bin/python" ]; then
  echo "test: creating $venv"
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check qdrant-client==1.20.0 pytest numpy selenium==4.51.0
echo "test: the client suite over REST"
STRATA_BIN="$bin" "$venv/bin/python" -m pytest Tests/client -q
echo "test: the client suite over gRPC"
STRATA_BIN="$bin" STRATA_TRANSPORT=grpc "$venv/bin/python" -m pytest Tests/client -q
echo "test: the client suite against a 3-node cluster (3 shards, replication_factor 2)"
STRATA_BIN="$bin" STRATA_TOPOLOGY=cluster "$venv/bin/python" -m pytest Tests/client -q --ignore=Tests/client/test_cluster.py
echo "test: a part of the client suite over gRPC against a 3-node cluster"
STRATA_BIN="$bin" STRATA_TOPOLOGY=cluster STRATA_TRANSPORT=grpc "$venv/bin/python" -m pytest -q \
  Tests/client/{test_points,test_query,test_search,test_filters,test_collections,test_sparse_query,test_distance_matrix}.py
echo "test: the dashboard in a real browser (headless Chromium)"
STRATA_BIN="$bin" "$venv/bin/python" -m pytest Tests/dashboard -q
