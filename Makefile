# The two commands the README opens with, and a few more.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/flex-bridge-target

.PHONY: run demo test lint bench bench-kb bench-cold build-lambda

## The whole bridge on this machine (in-memory store and queues, sandboxed Twilio, Flex, X and
## Discord) and its web console at http://127.0.0.1:3000/ (PORT overrides). Logs go to a file.
run:
	cargo run -p local --bin flex-bridge-local

## The same, after two scripted conversations (an X and a Discord customer: the virtual agent,
## a case, a Flex task, the agent) with their transcript printed.
demo:
	cargo run -p local --bin flex-bridge-local -- --demo

## Every test; starts moto server (DynamoDB + SQS) on 127.0.0.1 and stops it after.
test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cfn-lint template.yaml

## Twilio calls and DynamoDB operations per inbound message, and handler time (release build).
bench:
	scripts/bench.sh

## Ranking time per question and index build time, at 50 and 5,000 articles (optimised build).
bench-kb:
	cargo bench -p kb --features load --bench ranking

## Cold start, size and peak RSS of every function's release binary (host), beside a hello-world
## lambda_runtime function, against an emulated Lambda Runtime API. The LTO build takes minutes.
bench-cold:
	scripts/bench-cold.sh

## Lambda artifacts (arm64) with cargo-lambda: pip install cargo-lambda
build-lambda:
	cargo lambda build --release --arm64 --workspace --exclude local --exclude sandbox
