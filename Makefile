# Thin verbs over cargo and the scripts. `make dev` runs the product; `make test` runs every test.
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
export PGREST_BIN ?= $(abspath $(TARGET_DIR))/debug/pgrest-lambda

.PHONY: dev serve test unit e2e conformance bench fuzz watch build invoke validate lint

## Run the API on an embedded PostgreSQL with a demo schema (data in ./.pgrest).
dev:
	$(CARGO) run -p pgrest-cli -- dev

## Everything CI runs: clippy (no-panic lints as errors), the conformance gate's own tests, unit +
## integration tests, the supabase-js end-to-end test, conformance.
test: lint gate unit e2e conformance

unit:
	$(CARGO) test --workspace --all-targets

## `make test` also runs the conformance gate's own tests (python3 standard library only).
## Conformance without ../shared (or SHARED_DIR) is a loud warning; with CI=true, a failure.
.PHONY: gate
gate:
	python3 -m unittest discover -s scripts -p 'test_*.py'

e2e:
	$(CARGO) build -p pgrest-cli
	bash e2e/run.sh

conformance:
	$(CARGO) build -p pgrest-cli
	bash scripts/conformance.sh

## Property-based fuzzing of the parse/plan stages, a long campaign (`make test` runs 256 cases).
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} $(CARGO) test -p pgrest-core --test fuzz

## Throughput, latency, CPU, RSS and cold start against a pgbench ceiling (numbers, not pass/fail).
bench:
	bash bench/run.sh

## The API Lambda under `cargo lambda watch` (http://localhost:9000/lambda-url/pgrest-api).
watch:
	$(CARGO) lambda watch

## Both Lambdas for arm64 (needs cargo-lambda and zig).
build:
	$(CARGO) lambda build --release --arm64

invoke:
	$(CARGO) lambda invoke pgrest-api --data-file events/apigw-rest-get.json

validate:
	sam validate --lint

## Clippy with warnings as errors: the workspace lints deny unwrap/expect/panic/indexing outside tests.
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
