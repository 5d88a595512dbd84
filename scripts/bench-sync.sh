#!/usr/bin/env bash
# Sync benchmarks (see docs/benchmarks.md).
#
# Builds the release `groundwork` binary and the bench, then runs the bench:
# two and three nodes in the bench's own process on loopback (relays off),
# the sync protocol in memory, and the release binary's `up` sampled from
# /proc while idle. Markdown goes to stdout (machine, date, results);
# build output and progress go to stderr, so
#
#   scripts/bench-sync.sh > results.md
#
# keeps only the report. Takes about three minutes on 2 cores once built,
# one of them the idle node's 60-second window (GW_BENCH_IDLE_SECS shortens
# it). Other knobs (GW_BENCH_EDITS, GW_BENCH_WARMUP, GW_BENCH_BIG_EDITS,
# GW_BENCH_MEMBERS, GW_BENCH_SYNC_RUNS, GW_BENCH_DOCS, GW_BENCH_ONLY) are
# described in tests/benches/sync.rs.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report sync "Sync benchmarks"
