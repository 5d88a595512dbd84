#!/usr/bin/env bash
# The soak (issue 17): ten devices on loopback, random edits, restarts,
# kill -9, revocations and joins for GW_SOAK_MINUTES (30) from GW_SOAK_SEED
# (17), checked every minute; prints a SOAK line a minute and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
cargo test --locked -p groundwork-tests --test soak -- --ignored --nocapture 2>&1 | grep -E '^SOAK|panicked|test result'
