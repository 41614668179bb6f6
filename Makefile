# Tessera: `make run` to try it, `make test` to check everything. Both install what is
# missing first (see scripts/install-tools.sh).
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never
CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run test tools-run tools-test console server lint test-native test-wasm test-e2e screenshots clean

## Build the console and the server in release mode and start Tessera in demo mode.
run: tools-run console
	cargo build --release -p tessera-server
	@echo
	@echo "Tessera: open http://127.0.0.1:8080 and sign in with one of the demo users below."
	./target/release/tessera-server --demo --assets dist --database-url sqlite://data/tessera.db

## Lint, then native, wasm (headless Chromium) and browser end-to-end tests.
test: tools-test lint test-native test-wasm console test-e2e

tools-run:
	scripts/install-tools.sh run

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

test-native:
	cargo test --workspace

test-wasm:
	CHROMEDRIVER=$(CHROMEDRIVER) WASM_BINDGEN_TEST_TIMEOUT=120 \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p tessera-console --target wasm32-unknown-unknown

test-e2e: server
	TESSERA_BIN=$(CURDIR)/target/debug/tessera-server TESSERA_DIST=$(CURDIR)/dist \
	node --test --test-concurrency=1 e2e/

## Refresh the README's screenshots (docs/screenshots/) from a browser run.
screenshots: tools-test console server
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots TESSERA_BIN=$(CURDIR)/target/debug/tessera-server \
	TESSERA_DIST=$(CURDIR)/dist node --test e2e/screenshots.test.mjs

clean:
	cargo clean
	rm -rf dist node_modules
