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

cargo build --release -p groundwork-node >&2
cargo bench -p groundwork-tests --bench sync --no-run >&2

echo "## Sync benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- command: \`scripts/bench-sync.sh\` (= \`cargo build --release -p groundwork-node && cargo bench -p groundwork-tests --bench sync\`)"
echo "- cores (\`nproc\`): $(nproc)"
echo "- kernel (\`uname -r\`): $(uname -r)"
echo "- $(rustc --version)"
echo "- load average before the run (\`/proc/loadavg\`): $(cut -d' ' -f1-3 /proc/loadavg)"
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

cargo bench -p groundwork-tests --bench sync
echo
echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
