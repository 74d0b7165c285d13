#!/usr/bin/env bash
# Builds the package's WebAssembly from proxy_filter (feature "js") and the
# wasm-bindgen bindings for Node (pkg/node) and for web and edge runtimes
# (pkg/web). Needs the wasm32-unknown-unknown target and wasm-bindgen-cli of
# the version proxy_filter pins (stack/lib/install.sh installs both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
cargo build -q -p proxy_filter --target wasm32-unknown-unknown --profile wasm --features js --lib
wasm=target/wasm32-unknown-unknown/wasm/proxy_filter.wasm
rm -rf "$here/pkg"
wasm-bindgen --target nodejs --out-dir "$here/pkg/node" "$wasm"
wasm-bindgen --target web --out-dir "$here/pkg/web" "$wasm"
# The Node bindings are CommonJS inside this ES module package.
echo '{"type": "commonjs"}' > "$here/pkg/node/package.json"
for wasm in "$here"/pkg/*/proxy_filter_bg.wasm; do echo "[js] $wasm: $(stat -c %s "$wasm") bytes"; done
