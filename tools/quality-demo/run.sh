#!/usr/bin/env bash
# Bundle the quality demonstration against the libs' sources and run it on the wasm engine.
#   tools/quality-demo/run.sh [base-run] [out-run]     (defaults: runs/quality-base runs/quality-rer)
# The base run is a `facet train --preset quickstart --output runs/quality-base` model.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
npx esbuild "$here/demo.ts" --bundle --platform=node --format=esm --conditions=@facet/source \
  --external:@tensorflow/* --external:sharp --external:@resvg/* --external:vega --external:vega-lite --external:yaml --outfile="$here/dist/demo.mjs" --log-level=warning
node "$here/dist/demo.mjs" "$@"
