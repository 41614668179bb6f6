# Tessera: `make run` to try it, `make test` to check everything. Both install what is
# missing first (see scripts/install-tools.sh).
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never
CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: package test-package run test bench tools-run tools-test tools-bench console server lint deny test-native test-postgres test-wasm test-fuzz test-e2e soak screenshots clean

## Build the console and the server in release mode and start Tessera in demo mode.
run: tools-run console
	cargo build --release -p tessera-server
	@echo
	@echo "Tessera: open http://127.0.0.1:8080 and sign in with one of the demo users below."
	./target/release/tessera-server --demo --database-url sqlite://data/tessera.db

## Lint, then native (SQLite, then PostgreSQL), wasm (headless Chromium) and browser
## end-to-end tests.
test: tools-test lint deny test-native test-postgres test-fuzz test-wasm console test-e2e test-package

## Measure weight, load times, throughput, latency and memory against bench/budgets.toml
## (not part of test or CI; see docs/benchmarks.md).
bench: tools-bench console
	cargo build --release -p tessera-server
	scripts/build-console.sh bench/floor target/bench/floor-dist
	pg_virtualenv -o max_connections=200 node bench/run.mjs

tools-run:
	scripts/install-tools.sh run

tools-bench:
	scripts/install-tools.sh bench

tools-test:
	scripts/install-tools.sh test

console:
	scripts/build-console.sh

server:
	cargo build -p tessera-server

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p tessera-console --all-targets --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p tessera-console --all-targets --features admin --target wasm32-unknown-unknown -- -D warnings

## Licenses, banned and duplicate crates, sources (advisories need the network; see deny.toml).
## cargo deny reads every platform's crates; a build fetches only this one's, so fetch all.
deny:
	cargo fetch --locked
	cargo deny --offline check bans licenses sources

test-native:
	cargo test --workspace

## The API suite again on PostgreSQL (a throwaway pg_virtualenv cluster, or
## TESSERA_TEST_POSTGRES_URL): everything but the outage test, then the outage test alone
## (it stops the cluster), then schemathesis on PostgreSQL.
test-postgres: server
	scripts/test-postgres.sh

## Schema-driven fuzzing of every API operation (bounded: 100 examples each, fixed seed).
test-fuzz: server
	python3 tests/fuzz/schemathesis_run.py target/debug/tessera-server 100

## The long suites (not in CI): many more property cases and fuzz examples, and the crash,
## race and slow-client tests repeated.
soak: tools-test server
	PROPTEST_CASES=20000 cargo test -p tessera-server --test properties
	PROPTEST_CASES=5000 cargo test -p tessera-server --test api -- hostile_input
	SEED=$$RANDOM python3 tests/fuzz/schemathesis_run.py target/debug/tessera-server 2000
	for i in $$(seq 1 10); do \
	  cargo test -p tessera-server --test api -- durability races slow_clients backup || exit 1; \
	done

test-wasm:
	CHROMEDRIVER=$(CHROMEDRIVER) WASM_BINDGEN_TEST_TIMEOUT=120 \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p tessera-console --target wasm32-unknown-unknown

# The server is built again here: it embeds the console, built after the first `server`.
test-e2e: console
	cargo build -p tessera-server
	TESSERA_BIN=$(CURDIR)/target/debug/tessera-server TESSERA_DIST=$(CURDIR)/dist \
	node --test --test-concurrency=1 e2e/

## The Debian package (binary with the console inside, systemd unit, settings file) in
## target/, from a release build.
package: tools-run console
	cargo build --release -p tessera-server
	scripts/package.sh target/release/tessera-server \
	  target/tessera_$$(cargo pkgid -p tessera-server | sed 's/.*[#@]//')_$$(dpkg --print-architecture).deb

## Installs the package built from the test build on this machine, serves from it as its
## unit would, purges it (root; leaves the machine as it was).
test-package: console
	cargo build -p tessera-server
	scripts/test-package.sh target/debug/tessera-server

## Refresh the README's screenshots (docs/screenshots/) from a browser run.
screenshots: tools-test console server
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots TESSERA_BIN=$(CURDIR)/target/debug/tessera-server \
	TESSERA_DIST=$(CURDIR)/dist node --test e2e/screenshots.test.mjs

clean:
	cargo clean
	rm -rf dist node_modules
