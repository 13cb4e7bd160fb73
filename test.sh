#!/usr/bin/env bash
# Runs every AigneHub test. Tests use real PostgreSQL and Redis servers (started by the tests as local processes)
# and headless Chromium, so this installs postgresql, redis-server and chromium when they are missing.
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter StackTests
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh

ensure_packages postgresql redis-server chromium

results=artifacts/test-results
rm -rf "$results"
status=0
dotnet test AigneHub.sln --nologo --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

# One plain summary line, summed over every TRX file (a run that executed nothing shows as 0 passed).
passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
echo "$passed passed, $failed failed"
exit $status
