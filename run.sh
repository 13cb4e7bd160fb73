#!/usr/bin/env bash
# Runs the whole AigneHub stack (Postgres, Redis, Api, Worker, Admin and the Aspire dashboard) with one command.
# With a container runtime, Postgres and Redis run as containers; without one, as local processes from the OS
# packages, which this script installs when they are missing. Extra arguments go to the AppHost, e.g.
#   ./run.sh --infra local --data-dir ~/aignehub-data
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh

if ! container_runtime_answers; then
  ensure_packages postgresql redis-server
fi

# Only what the stack runs: the AppHost builds the Api, Worker and Admin it references (not the tests).
dotnet build src/AigneHub.AppHost --nologo -v minimal
exec dotnet run --no-build --project src/AigneHub.AppHost --launch-profile http -- "$@"
