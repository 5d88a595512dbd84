#!/usr/bin/env bash
# Forget benchmark (see docs/benchmarks.md): a group of N members (10,000
# by default) imported on one device, then `member forget` of one of them,
# timed on that device with no node running (the steward's time until done:
# the removal, two new epochs, the old ones deleted and the file rewritten).
# Also the store file's size before and after.
#
#   scripts/bench-forget.sh            # 3 runs
#
# Knobs: GW_BENCH_MEMBERS (10000), GW_BENCH_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p groundwork-node >&2
bin=target/release/groundwork
n=${GW_BENCH_MEMBERS:-10000}
runs=${GW_BENCH_RUNS:-3}
echo "## Forget benchmark ($n members, $runs runs)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $(nproc) cores, $(uname -r)"
echo
echo "| run | member forget (wall) | store before | store after |"
echo "|---|---|---|---|"
for run in $(seq 1 "$runs"); do
    dir=$(mktemp -d)
    export GROUNDWORK_DIR="$dir/g"
    "$bin" init --name "Bench Group" > /dev/null
    python3 scripts/members-csv.py "$n" > "$dir/members.csv"
    "$bin" member import "$dir/members.csv" > /dev/null
    id=$("$bin" member list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    before=$(stat -c %s "$GROUNDWORK_DIR/groundwork.redb")
    start=$(date +%s%N)
    "$bin" member forget "$id" --yes > /dev/null
    end=$(date +%s%N)
    after=$(stat -c %s "$GROUNDWORK_DIR/groundwork.redb")
    printf '| %s | %d ms | %d KiB | %d KiB |\n' "$run" $(( (end - start) / 1000000 )) $(( before / 1024 )) $(( after / 1024 ))
    rm -rf "$dir"
done
