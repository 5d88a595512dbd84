#!/usr/bin/env bash
# Terminal UI rendering benchmark (see docs/benchmarks.md): frames of the
# Members tab with 10,000 members and of the Dashboard with 200 groups,
# against the network screen of 8 groups, at 80×24 and 160×48, on ratatui's
# TestBackend. Markdown to stdout, build output to stderr:
#
#   scripts/bench-render.sh > results.md
#
# Takes a few seconds once built. GW_BENCH_FRAMES sets the frames per case.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report render "Terminal UI rendering benchmark" groundwork-tui
