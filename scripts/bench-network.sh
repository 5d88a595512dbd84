#!/usr/bin/env bash
# Network benchmark (see docs/benchmarks.md).
#
# Builds the release `groundwork` binary (the national node runs it, in its
# own process) and the bench, which runs 200 sample groups as nodes in its own
# process on loopback (relays off), affiliates every group and links every other one with its neighbour, and times the
# national node's report and every node's directory. Markdown goes to stdout,
# build output and progress to stderr:
#
#   scripts/bench-network.sh > results.md
#
# Knobs: GW_BENCH_GROUPS (200), GW_BENCH_RUNS (3); see tests/benches/network.rs.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report network "Network benchmark"
