#!/usr/bin/env bash
# The inbound and bot benchmarks (optimised build) against moto server and the sandbox. Prints Twilio
# calls and DynamoDB operations per message, handler time, cold-start set-up time, and X DMs per
# conversation.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flex-bridge-target}"
exec scripts/with-moto.sh cargo bench -p local --bench inbound --bench bot --bench journey "$@"
