#!/usr/bin/env bash
# Network simulation (see docs/benchmarks.md, "Simulation").
#
# Builds and runs the simulation bench: the national node and 200, 500,
# 1,000 and 2,000 groups in one process, the protocol's session state
# machines and iroh-gossip's state machine over simulated links (seeded
# latency, bandwidth and loss). Markdown goes to stdout, build output and
# progress to stderr:
#
#   scripts/bench-sim.sh > results.md
#
# Knobs: GW_SIM_GROUPS (200,500,1000,2000), GW_SIM_SEED (1),
# GW_SIM_LATENCY_MS (10-60), GW_SIM_LOSS (0.01), GW_SIM_UPLINK_MBIT (20),
# GW_SIM_NATIONAL_MBIT (100), GW_SIM_LIMIT_SECS (600); see sim/src/cli.rs.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_report sim "Simulation: the network at 200 to 2,000 groups" groundwork-sim
