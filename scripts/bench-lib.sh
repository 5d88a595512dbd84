# Shared by the scripts/bench-*.sh scripts (source it; do not run it).
#
# bench_report NAME TITLE [PACKAGE [FLAGS]] builds the bench NAME of
# PACKAGE (default groundwork-tests, whose benches also need the release
# `groundwork` binary, built first), prints a Markdown header describing the
# machine and the run, then runs `cargo bench -p PACKAGE FLAGS --bench NAME`
# (FLAGS, for example `--features samod`, may be empty).
# Build output and progress go to stderr, the report to stdout.
bench_report() {
    local name=$1 title=$2 package=${3:-groundwork-tests} flags=${4:-}
    if [ "$package" = groundwork-tests ]; then
        cargo build --release -p groundwork-node >&2
    fi
    # shellcheck disable=SC2086 # FLAGS is words on purpose
    cargo bench -p "$package" $flags --bench "$name" --no-run >&2

    echo "## $title"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- command: \`scripts/bench-$name.sh\` (= \`cargo bench -p $package ${flags:+$flags }--bench $name\`)"
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

    # shellcheck disable=SC2086
    cargo bench -p "$package" $flags --bench "$name"
    echo
    echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}
