#!/usr/bin/env bash
# Builds the DocC documentation of the libraries (Strata, StrataClient, StrataText, and the modules
# whose types they re-export: StrataAPI, StrataModel, StrataPayload) as one combined
# archive, and fails when:
#   - DocC warns about anything (an unresolved link, a bad article): --warnings-as-errors;
#   - a public symbol of those modules has no documentation comment (DocC's coverage,
#     without compiler-synthesized members and with docs inherited from protocols).
# Output: .build/docs, one combined archive (serve it with any static web server and open
# /documentation/strata). STRATA_SCRATCH_PATH=DIR builds in DIR instead of .build.
# Usage: scripts/docs.sh [--no-coverage]
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(StrataModel StrataPayload StrataAPI StrataText Strata StrataClient)
build="${STRATA_SCRATCH_PATH:-.build}"
scratch=()
if [ -n "${STRATA_SCRATCH_PATH:-}" ]; then scratch=(--scratch-path "$STRATA_SCRATCH_PATH"); fi
out="$build/docs"
log="$build/docs-generate.log"
# Each target's archive (with its coverage report) is kept here before the merge; never read a stale one.
intermediates="$build/plugins/Swift-DocC/outputs/intermediates"
rm -rf "$out" "$intermediates"
mkdir -p "$build"

flags=(--warnings-as-errors --enable-experimental-combined-documentation
  --experimental-skip-synthesized-symbols --enable-inherited-docs)
if [ "${1:-}" != "--no-coverage" ]; then
  flags+=(--experimental-documentation-coverage --coverage-summary-level none)
fi
for target in "${targets[@]}"; do flags+=(--target "$target"); done

echo "docs: building ${targets[*]}"
if ! swift package "${scratch[@]}" --allow-writing-to-directory "$out" generate-documentation "${flags[@]}" \
  --output-path "$out" >"$log" 2>&1; then
  grep -E "error|warning" "$log" | sort -u | head -50
  echo "docs: generate-documentation failed (full log: $log)"
  exit 1
fi

if [ "${1:-}" = "--no-coverage" ]; then
  echo "docs: ok ($out)"
  exit 0
fi

python3 - "$intermediates" "${targets[@]}" <<'PY'
import json, pathlib, sys

intermediates, targets = pathlib.Path(sys.argv[1]), sys.argv[2:]
files = {f.parent.name.removesuffix(".doccarchive"): f for f in intermediates.glob("*.doccarchive/documentation-coverage.json")}
missing_targets = [t for t in targets if t not in files]
if missing_targets:
    sys.exit(f"docs: no coverage report for {missing_targets} (found {sorted(files)})")
undocumented = []
for target in targets:
    for entry in json.load(open(files[target])):
        kind = entry["kind"]
        if not kind["isSymbol"] or entry["hasAbstract"]:
            continue
        if kind["id"] == "org.swift.docc.kind.module" or kind["id"].startswith("org.swift.docc.kind.extended"):
            continue
        undocumented.append(f'{entry["referencePath"].replace("doc://", "", 1)}  ({kind["name"]})')
for line in sorted(undocumented):
    print("docs: undocumented:", line)
if undocumented:
    sys.exit(f"docs: {len(undocumented)} public symbol(s) without documentation")
print(f"docs: ok, every public symbol of {', '.join(targets)} documented")
PY
