#!/usr/bin/env bash
# Every test: unit tests, and the end-to-end and store tests against moto server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flex-bridge-target}"
exec scripts/with-moto.sh cargo test --workspace "$@"
