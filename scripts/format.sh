#!/usr/bin/env bash
# Formats the Swift sources with apple's swift-format (shipped in the toolchain as
# `swift format`) and the repository's .swift-format:
#   scripts/format.sh          rewrites Package.swift, Sources, Tests and the fuzz package in place;
#   scripts/format.sh --check  changes nothing: formats a copy and exits non-zero, listing the
#                              files, when any file differs from its formatted form.
# The check compares with the formatter's output rather than running `swift format lint`:
# lint also reports findings the formatter cannot fix (a long string literal, a long
# identifier chain), and the rule is "the code is as the formatter leaves it".
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Package.swift Sources Tests fuzz/Package.swift fuzz/Sources)
format() { swift format format --configuration .swift-format --parallel --in-place --recursive "$@"; }
case "${1:-}" in
    "") format "${paths[@]}" ;;
    --check)
        copy=$(mktemp -d)
        trap 'rm -rf "$copy"' EXIT
        for path in "${paths[@]}"; do
            mkdir -p "$copy/$(dirname "$path")"
            cp -R "$path" "$copy/$path"
        done
        cp .swift-format "$copy/"
        (cd "$copy" && format "${paths[@]}")
        changed=$(for path in "${paths[@]}"; do diff -rq "$path" "$copy/$path" || true; done)
        if [ -n "$changed" ]; then
            echo "format: these files are not as scripts/format.sh leaves them (run it and commit):" >&2
            echo "$changed" >&2
            exit 1
        fi
        echo "format: ok"
        ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
