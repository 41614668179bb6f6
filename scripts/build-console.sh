#!/usr/bin/env bash
# Builds the console into dist/ (release, wasm-opt -Oz) and writes brotli and gzip copies
# of every compressible file next to it, so the server never compresses per request.
# `scripts/build-console.sh bench/floor target/bench/floor-dist` builds the bench's
# framework floor the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
app="${1:-.}"
dist="${2:-dist}"
cargo fetch --target wasm32-unknown-unknown >/dev/null
(cd "$app" && trunk build --release --offline)
find "$dist" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) |
  while read -r f; do
    brotli -q 11 -f -k -o "$f.br" "$f"
    gzip -9 -n -k -f "$f"
  done
