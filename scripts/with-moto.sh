#!/usr/bin/env bash
# Runs a command with moto server (DynamoDB + SQS) on 127.0.0.1: installs moto[server] from PyPI
# if needed, points the AWS SDK at it with AWS_ENDPOINT_URL and dummy credentials, and stops it
# afterwards whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "installing moto[server] from PyPI..."
  python3 -m pip install --quiet "moto[server]"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_PORT="$port" python3 scripts/moto_server.py 127.0.0.1 "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

if "$@"; then
  status=0
else
  status=$?
  echo "--- moto server log (last 40 lines) ---"
  tail -n 40 "$work/moto.log"
fi
exit "$status"
