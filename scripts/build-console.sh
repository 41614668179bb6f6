#!/usr/bin/env bash
# Builds the console into dist/ (release, wasm-opt -Oz) and writes brotli and gzip copies
# of every compressible file next to it, so the server never compresses per request.
# When the app has an admin.html, that build is added as dist/admin.html.
# `scripts/build-console.sh bench/floor target/bench/floor-dist` builds the bench's
# framework floor the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
app="${1:-.}"
dist="${2:-dist}"
cargo fetch --target wasm32-unknown-unknown >/dev/null
(cd "$app" && trunk build --release --offline)
# The console's second build, for administrators (admin.html; see Cargo.toml's `admin`
# feature). Trunk empties its dist, so it builds aside and is copied in.
if [ -f "$app/admin.html" ]; then
  aside="target/admin-dist"
  (cd "$app" && trunk build admin.html --release --offline=true --dist "$aside")
  cp "$app/$aside"/*.wasm "$app/$aside"/*.js "$app/$aside"/*.css "$dist/"
  # Trunk names its output index.html whatever the source page was called.
  cp "$app/$aside/index.html" "$dist/admin.html"
fi
find "$dist" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) |
  while read -r f; do
    brotli -q 11 -f -k -o "$f.br" "$f"
    gzip -9 -n -k -f "$f"
  done
