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

cargo build --release -p groundwork-node >&2
cargo bench -p groundwork-tests --bench foundation --no-run >&2

echo "## Foundation benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- command: \`scripts/bench-foundation.sh\` (= \`cargo build --release -p groundwork-node && cargo bench -p groundwork-tests --bench foundation\`)"
echo "- cores (\`nproc\`): $(nproc)"
echo "- kernel (\`uname -r\`): $(uname -r)"
echo "- $(rustc --version)"
echo
echo '```text'
echo '$ free -h'
free -h
echo '$ lscpu | head'
lscpu | head
echo '$ df -T target'
df -T target | tail -n +1
echo '```'
echo

cargo bench -p groundwork-tests --bench foundation
