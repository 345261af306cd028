#!/usr/bin/env bash
# Cold starts of every function (functions/*) beside a hello-world lambda_runtime function
# (bench/hello-lambda), each started the way Lambda starts a bootstrap, against an emulated
# Runtime API (scripts/lambda_runtime_emulator.py). Prints a Markdown table: stripped binary
# size, median cold start, ratio to hello-world, peak RSS.
#
#   scripts/bench-cold.sh [--no-build] [--arm64] [--secret] [--rounds N] [--env VAR=VALUE]...
#
# --secret starts each function as deployed: its credentials in a Secrets Manager secret named
# by SECRETS_ARN, which it reads at cold start (one GetSecretValue, here against moto server on
# loopback, started for the run).
#
# --arm64 also builds every function for arm64 as deployed (`cargo lambda build --release
# --arm64`; `pip install cargo-lambda`) and prints their stripped sizes (this machine cannot run
# them, so no cold start).
#
# Builds release binaries for the host with the workspace's release profile (LTO: 10+ minutes
# from scratch on 2 cores); --no-build uses the binaries already built. --rounds (default 7) and
# --env (one more variable for every binary, for experiments) go to the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flex-bridge-target}"

build=1
arm64=0
secret=0
emulator_args=()
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        --arm64) arm64=1 ;;
        --secret) secret=1 ;;
        *) emulator_args+=("$arg") ;;
    esac
done

if [ "$secret" = 1 ]; then
    if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
        exec scripts/with-moto.sh "$0" "$@"
    fi
    # The template's secret: the credentials, as one JSON object (test-only values).
    arn=$(python3 -c '
import json, os, sys, uuid
import boto3
sys.path.insert(0, "scripts")
from lambda_runtime_emulator import APP_ENV
names = ["TWILIO_AUTH_TOKEN", "X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN",
         "X_ACCESS_TOKEN_SECRET", "DISCORD_BOT_TOKEN"]
client = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                      region_name=os.environ.get("AWS_REGION", "us-east-1"))
created = client.create_secret(Name="bench-" + uuid.uuid4().hex[:8],
                               SecretString=json.dumps({n: APP_ENV[n] for n in names}))
print(created["ARN"])
')
    emulator_args+=(--env "SECRETS_ARN=$arn" --env "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL")
fi

# Package names (= binary names) of the functions.
functions=()
for manifest in functions/*/Cargo.toml; do
    functions+=("$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1)")
done
hello_target="$CARGO_TARGET_DIR/hello-lambda"

# The hello-world must run the lambda_runtime the functions run.
lock_version() { grep -A1 '^name = "lambda_runtime"$' "$1" | sed -n 's/^version = "\(.*\)"/\1/p'; }
main_runtime="$(lock_version Cargo.lock)"
hello_runtime="$(lock_version bench/hello-lambda/Cargo.lock)"
if [ "$main_runtime" != "$hello_runtime" ]; then
    echo "warning: lambda_runtime $hello_runtime in bench/hello-lambda/Cargo.lock," \
        "$main_runtime in Cargo.lock (cargo update -p lambda_runtime --precise $main_runtime" \
        "--manifest-path bench/hello-lambda/Cargo.toml)" >&2
fi

if [ "$build" = 1 ]; then
    packages=()
    for f in "${functions[@]}"; do packages+=(-p "$f"); done
    # One invocation: the functions have the same dependencies and features, so this builds
    # the same binaries as one `cargo build -p` each, sharing the dependency builds.
    (set -x; cargo build --release "${packages[@]}")
    (set -x; CARGO_TARGET_DIR="$hello_target" cargo build --release \
        --manifest-path bench/hello-lambda/Cargo.toml)
fi

targets=("hello-world=$hello_target/release/hello-lambda")
for f in "${functions[@]}"; do targets+=("$f=$CARGO_TARGET_DIR/release/$f"); done

echo "$(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
    "lambda_runtime $main_runtime; $(rustc --version)" >&2
python3 scripts/lambda_runtime_emulator.py "${emulator_args[@]}" "${targets[@]}"

if [ "$arm64" = 1 ]; then
    if [ "$build" = 1 ]; then
        packages=()
        for f in "${functions[@]}"; do packages+=(-p "$f"); done
        (set -x; cargo lambda build --release --arm64 "${packages[@]}")
    fi
    echo
    echo "| function (arm64) | stripped bootstrap (MB) |"
    echo "| --- | ---: |"
    for f in "${functions[@]}"; do
        bootstrap="$CARGO_TARGET_DIR/lambda/$f/bootstrap"
        if [ -f "$bootstrap" ]; then
            python3 -c "import os, sys; print(f'| {sys.argv[1]} | {os.path.getsize(sys.argv[2]) / 2**20:.2f} |')" "$f" "$bootstrap"
        else
            echo "| $f | not built |"
        fi
    done
fi
