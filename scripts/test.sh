#!/usr/bin/env bash
# Every test: unit tests, the end-to-end and store tests against moto server, and the web
# console's browser test against headless Chromium driven through chromedriver.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flex-bridge-target}"

# The browser test (local/tests/browser.rs) needs Chromium and chromedriver: on Debian and
# Ubuntu, the chromium and chromium-driver packages, installed here when missing. It reads
# chromedriver's address from CHROMEDRIVER_URL (set it yourself to use another one); without it
# the test is skipped, except under CI=true, where it fails.
if [ -z "${CHROMEDRIVER_URL:-}" ]; then
  if [ ! -x /usr/bin/chromedriver ] && ! command -v chromedriver >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
      echo "installing chromium and chromium-driver with apt-get..."
      $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null \
        || echo "could not install chromium and chromium-driver: the browser test will not run"
    else
      echo "no chromedriver and no apt-get: install Chromium and chromedriver to run the browser test"
    fi
  fi
  chromedriver=$(command -v chromedriver || true)
  if [ -z "$chromedriver" ] && [ -x /usr/bin/chromedriver ]; then chromedriver=/usr/bin/chromedriver; fi
  if [ -n "$chromedriver" ]; then
    driver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    driver_log=$(mktemp)
    # In its own process group, so stopping it also stops any browser it left behind.
    setsid=$(command -v setsid || true)
    $setsid "$chromedriver" --port="$driver_port" >"$driver_log" 2>&1 &
    driver_pid=$!
    stop_driver() {
      kill -- "-$driver_pid" 2>/dev/null || kill "$driver_pid" 2>/dev/null || true
      wait "$driver_pid" 2>/dev/null || true
      rm -f "$driver_log"
    }
    trap stop_driver EXIT
    for _ in $(seq 1 100); do
      if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$driver_port/status')" 2>/dev/null; then
        export CHROMEDRIVER_URL="http://127.0.0.1:$driver_port"
        break
      fi
      sleep 0.1
    done
    if [ -z "${CHROMEDRIVER_URL:-}" ]; then
      echo "chromedriver did not start:"
      cat "$driver_log"
    fi
  fi
fi

scripts/with-moto.sh cargo test --workspace "$@"
