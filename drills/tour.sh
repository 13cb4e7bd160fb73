#!/usr/bin/env bash
# The tour (issue 14): one call of every kind — chat (JSON, stream, AIGNE), embeddings, image generation and edit,
# speech, transcription, translation, video (AIGNE and OpenAI's videos API) — through the Api as a real process
# (Release, billing on) with Postgres, Redis and the fake OpenAI provider, all on 127.0.0.1; each call's record and
# charge checked against the rate × the units the fake reported, then the money check.
#   ./drills/tour.sh
# Writes drills/results/tour.md; exits non-zero on any mismatch. Every process it starts is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prerequisites.sh
ensure_packages postgresql redis-server
exec harness/run.sh drills/AigneHub.Drills tour "$@"
