#!/usr/bin/env bash
# Groundwork side by side with samod 0.16 and plain Automerge 0.12 (see
# docs/benchmarks.md and tests/benches/compare.rs).
#
# Builds the release `groundwork` binary and the bench (with the test
# crate's `samod` feature, which the test suite never enables), then runs
# it: the same documents on all three, in interleaved rounds. Markdown goes
# to stdout, progress to stderr:
#
#   scripts/bench-compare.sh > results.md
#
# About four minutes on 2 cores once built. Knobs: GW_CMP_ROUNDS (5),
# GW_CMP_EDITS (40), GW_CMP_MEMBERS (10000), GW_CMP_DOCS (200),
# GW_CMP_CHANGED (20).
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report compare "Groundwork, samod and plain Automerge" groundwork-tests "--features samod"
