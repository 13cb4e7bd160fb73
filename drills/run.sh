#!/usr/bin/env bash
# Runs the reliability drills of issue 12 (docs/reliability.md) on this machine, all on 127.0.0.1: a local Postgres
# (max_connections=100) and Redis, the Api and Worker as real processes from their Release builds, a fake provider.
#   ./drills/run.sh                      every drill (about ten minutes with the default 30 s outages)
#   ./drills/run.sh burst shutdown       only those
#   ./drills/run.sh --outage-seconds 10  shorter Redis/Postgres outages;  --burst N  the burst's size (default 1000)
# Writes drills/results/last-run.md. Every process it starts is stopped by its PID at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prerequisites.sh
ensure_packages postgresql redis-server
exec harness/run.sh drills/AigneHub.Drills "$@"
