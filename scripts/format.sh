#!/usr/bin/env bash
# Formats the Swift sources with apple's swift-format (shipped in the toolchain as
# `swift format`) and the repository's .swift-format:
#   scripts/format.sh          rewrites Package.swift, Sources, Tests and the fuzz package in place;
#   scripts/format.sh --check  changes nothing: lints with --strict and exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Package.swift Sources Tests fuzz/Package.swift fuzz/Sources)
case "${1:-}" in
    "") exec swift format format --configuration .swift-format --parallel --in-place --recursive "${paths[@]}" ;;
    --check) exec swift format lint --configuration .swift-format --parallel --strict --recursive "${paths[@]}" ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
