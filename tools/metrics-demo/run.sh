#!/usr/bin/env bash
# Bundle a demo script (default demo.ts; or scale.ts) against the libs' sources and run it on the wasm engine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
script="${1:-demo.ts}"
cd "$here/../.."
npx esbuild "$here/$script" --bundle --platform=node --format=esm --conditions=@facet/source \
  --external:@tensorflow/* --outfile="$here/dist/${script%.ts}.mjs" --log-level=warning
node "$here/dist/${script%.ts}.mjs"
