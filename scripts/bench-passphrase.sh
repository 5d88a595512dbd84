#!/usr/bin/env bash
# The cost of a passphrase (see docs/benchmarks.md, "A passphrase: what it
# costs"): edit latency and a cold `member list` on 10,000 members, with and
# without a passphrase, paired in one run. Markdown to stdout, progress to
# stderr:
#
#   scripts/bench-passphrase.sh > results.md
#
# Takes about two minutes on 2 cores. Knobs: GW_BENCH_MEMBERS,
# GW_BENCH_ADDS, GW_BENCH_LIST_RUNS (tests/benches/at_rest.rs).
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report passphrase "A passphrase: what it costs"
