#!/usr/bin/env bash
# The benchmark of issue 13 (bench/README.md), all on 127.0.0.1: a fake OpenAI-compatible provider, a bare .NET
# forwarder (the floor), Postgres (fsync on, as deployed) and Redis, two Apis in Release (billing on; billing off),
# loaded with wrk. Every process it starts is stopped by its PID at the end, also on failure.
#   ./bench/run.sh                                   the default run (about ten minutes: 10 s runs, 2 repeats)
#   ./bench/run.sh --duration 2 --repeats 1          a short smoke run
#   ./bench/run.sh --fsync off --label "fsync off"   the tests' Postgres mode, labelled
#   extra scenarios: --slow-streams 512, --soak MINUTES, --analytics ROWS; a provider's first token: --ttft MS
# Writes bench/results/last-run.md and last-run.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prerequisites.sh
ensure_packages postgresql redis-server wrk
exec harness/run.sh bench/AigneHub.Bench "$@"
