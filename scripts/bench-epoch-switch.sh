#!/usr/bin/env bash
# Epoch switch benchmark (see docs/benchmarks.md): a steward's running node
# with N members (10,000 by default) and D organiser devices (2) running
# and synced, all on loopback with relays off. Times `member forget ID
# --yes` on the steward until every connected device has switched the
# roster and contacts to their new epochs (the steward's status names none
# still on the old one), and counts the bytes each device received for the
# switch against the bytes it received for its first sync of the same
# documents (its `join`), both from GROUNDWORK_WIRE_DUMP files.
#
#   scripts/bench-epoch-switch.sh            # 3 runs
#
# Knobs: GW_BENCH_MEMBERS (10000), GW_BENCH_DEVICES (2), GW_BENCH_RUNS (3),
# GW_BENCH_KEEP (set: keep the data directories and wire dumps).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p groundwork-node >&2
bin=$PWD/target/release/groundwork
n=${GW_BENCH_MEMBERS:-10000}
devices=${GW_BENCH_DEVICES:-2}
runs=${GW_BENCH_RUNS:-3}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# json FILTER DIR ARGS...: runs the CLI on DIR with --json and applies a
# Python expression to the parsed value `v`.
json() {
    local expr=$1 dir=$2
    shift 2
    GROUNDWORK_DIR=$dir "$bin" "$@" --json | python3 -c "import json,sys; v=json.load(sys.stdin); print($expr)"
}

# The roster and contacts fingerprints of DIR's running node.
prints() {
    json "' '.join(str(d.get('fingerprint')) for d in v['documents'] if d['kind'] in ('roster','contacts') and d.get('group')==v['group'])" "$1" status
}

# Waits (at most 120 s) until COMMAND prints WANT.
wait_for() {
    local want=$1
    shift
    local deadline=$(( $(date +%s) + 120 ))
    until [ "$("$@" 2>/dev/null || true)" = "$want" ]; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "timed out waiting for: $*" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# Starts `up` on DIR (with a wire dump if WIRE is set) and waits for its ticket.
start() {
    local dir=$1 wire=${2:-}
    if [ -n "$wire" ]; then
        GROUNDWORK_DIR=$dir GROUNDWORK_WIRE_DUMP=$wire "$bin" --offline up --listen 127.0.0.1:0 > "$dir.out" 2> "$dir.err" &
    else
        GROUNDWORK_DIR=$dir "$bin" --offline up --listen 127.0.0.1:0 > "$dir.out" 2> "$dir.err" &
    fi
    pids+=($!)
    local deadline=$(( $(date +%s) + 60 ))
    until grep -q '^ticket: ' "$dir.out" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "no ticket from $dir" >&2
            exit 1
        fi
        sleep 0.05
    done
}

size() { stat -c %s "$1" 2>/dev/null || echo 0; }

echo "## Epoch switch benchmark ($n members, $devices organiser devices running, $runs runs)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), $(nproc) cores, $(uname -r)"
echo
echo "| run | forget until every connected device switched | its report | bytes received to switch (each device) | bytes received in its first sync (join) | switch ÷ first sync |"
echo "|---|---|---|---|---|---|"
for run in $(seq 1 "$runs"); do
    root=$(mktemp -d)
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$root"' EXIT
    s=$root/s
    GROUNDWORK_DIR=$s "$bin" init --name "Bench Group" > /dev/null
    python3 scripts/members-csv.py "$n" > "$root/members.csv"
    GROUNDWORK_DIR=$s "$bin" member import "$root/members.csv" > /dev/null
    start "$s"
    joins=()
    for d in $(seq 1 "$devices"); do
        dir=$root/d$d
        invite=$(GROUNDWORK_DIR=$s "$bin" invite --role organiser)
        GROUNDWORK_DIR=$dir GROUNDWORK_WIRE_DUMP=$root/d$d.join.wire "$bin" --offline join "$invite" --label "device $d" > /dev/null
        joins+=("$(size "$root/d$d.join.wire")")
        start "$dir" "$root/d$d.up.wire"
    done
    for d in $(seq 1 "$devices"); do
        wait_for "$(prints "$s")" prints "$root/d$d"
    done
    befores=()
    for d in $(seq 1 "$devices"); do
        befores+=("$(size "$root/d$d.up.wire")")
    done
    id=$(json "v[0]['id']" "$s" member list)
    t0=$(now_ms)
    report=$(GROUNDWORK_DIR=$s "$bin" member forget "$id" --yes | grep 'have switched so far' || true)
    wait_for "0" json "sum(len(d.get('old_epoch', [])) for d in v['documents'] if d['kind'] in ('roster','contacts'))" "$s" status
    t1=$(now_ms)
    # Every device holds what the steward holds (the rebase-free case).
    for d in $(seq 1 "$devices"); do
        wait_for "$(prints "$s")" prints "$root/d$d"
    done
    switch=() first=() ratio=()
    for d in $(seq 1 "$devices"); do
        i=$((d - 1))
        b=$(( $(size "$root/d$d.up.wire") - befores[i] ))
        switch+=("$(( b / 1024 )) KiB")
        first+=("$(( joins[i] / 1024 )) KiB")
        ratio+=("$(python3 -c "print(f'{$b / ${joins[i]}:.2f}')")")
    done
    printf '| %s | %d ms | %s | %s | %s | %s |\n' "$run" $(( t1 - t0 )) "$report" "${switch[*]}" "${first[*]}" "${ratio[*]}"
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    trap - EXIT
    if [ -n "${GW_BENCH_KEEP:-}" ]; then echo "kept $root" >&2; else rm -rf "$root"; fi
done
