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

# The bench references the harness, which references the AppHost, which builds the Api and Worker too.
dotnet build bench/AigneHub.Bench -c Release --nologo -v quiet

pidfile=$(mktemp -t aignehub-bench-pids.XXXXXX)
# If the runner dies without stopping what it started, stop those processes here (each by its PID).
cleanup() {
  while read -r pid; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done <"$pidfile"
  rm -f "$pidfile"
}
trap cleanup EXIT
AIGNEHUB_REPOSITORY="$PWD" AIGNEHUB_HARNESS_PIDFILE="$pidfile" \
  dotnet bench/AigneHub.Bench/bin/Release/net10.0/AigneHub.Bench.dll "$@"
