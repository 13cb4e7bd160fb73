#!/usr/bin/env bash
# Builds a harness console (drills/AigneHub.Drills, bench/AigneHub.Bench) in Release and runs it with the given
# arguments, from the repository root. The console writes the PID of every process it starts to a file; if it dies
# without stopping them, they are stopped here, each by its PID.
#   harness/run.sh <project folder> [arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."
project=$1
shift
# The console references the harness, which references the AppHost, which builds the Api and Worker too.
dotnet build "$project" -c Release --nologo -v quiet

pidfile=$(mktemp -t aignehub-harness-pids.XXXXXX)
cleanup() {
  while read -r pid; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done <"$pidfile"
  rm -f "$pidfile"
}
trap cleanup EXIT
AIGNEHUB_REPOSITORY="$PWD" AIGNEHUB_HARNESS_PIDFILE="$pidfile" \
  dotnet "$project/bin/Release/net10.0/$(basename "$project").dll" "$@"
