#!/usr/bin/env bash
# Installs what Tessera's build and tests need, skipping whatever is already present at
# the right version. Usage: scripts/install-tools.sh run|test
# Everything comes from crates.io, npm and Debian's packages (no other downloads work on
# the machines this is built on; see README "Requirements").
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-test}"  # run | test | bench

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required: $2" >&2; exit 1; }; }

need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "install Rust with rustup"
need node "install Node.js 20 or later (apt-get install nodejs npm)"
need npm "install npm (apt-get install npm)"

apt_packages=(brotli)
# nginx: the auth_request gateway test (and the bench's HTTP ceiling); wrk: the bench's load;
# postgresql: the API suite's second pass and the cluster suite (pg_virtualenv); caddy: the
# forward_auth gateway test (and the bench's Caddy latency).
case "$purpose" in
  test) apt_packages+=(caddy chromium chromium-driver nginx postgresql) ;;
  bench) apt_packages+=(caddy chromium chromium-driver nginx wrk postgresql) ;;
esac
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  apt-get clean  # the downloaded .debs: CI disk is not unlimited
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "cargo install trunk $TRUNK_VERSION (takes several minutes once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wasm-opt (binaryen 132), Playwright and axe-core, project-local. Never Debian's binaryen:
# its wasm-opt 108 builds without error and then the page stays blank.
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$purpose" = test ]; then
  # cargo-deny: licenses, bans and sources of every dependency (make deny).
  CARGO_DENY_VERSION=0.20.2
  if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    say "cargo install cargo-deny $CARGO_DENY_VERSION (takes a few minutes once)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
  # schemathesis, project-local (make test-fuzz).
  if ! .venv/bin/pip freeze 2>/dev/null | grep -qxF "$(grep -v '^#' tests/fuzz/requirements.txt)"; then
    say "pip install -r tests/fuzz/requirements.txt into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt
  fi
fi
