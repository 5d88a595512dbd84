#!/usr/bin/env bash
# Foundation benchmarks (see docs/benchmarks.md).
#
# Builds the release `groundwork` binary and the bench, then runs the bench,
# which drives that binary as separate processes. Markdown goes to stdout
# (machine, date, results table); build output and progress go to stderr, so
#
#   scripts/bench-foundation.sh > results.md
#
# keeps only the report. Takes about five minutes on 2 cores, most of it the
# 10,000 separate library adds; GW_BENCH_LIBRARY_ADDS=0 skips those. Other
# knobs (GW_BENCH_MEMBERS, GW_BENCH_ADDS, GW_BENCH_LIST_RUNS,
# GW_BENCH_IMPORT_RUNS) are described in tests/benches/foundation.rs.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report foundation "Foundation benchmarks"
