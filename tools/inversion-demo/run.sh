#!/usr/bin/env bash
# Bundle demo.ts (or SCRIPT=verify.ts) against the libs' sources and run it on the wasm engine.
# Needs two quickstart runs (model and verifier):
#   node apps/cli/bin/run.js train --preset quickstart --output runs/inv-a
#   node apps/cli/bin/run.js train --preset quickstart --output runs/inv-b --seed 7
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
mkdir -p "$here/dist"
script="${SCRIPT:-demo.ts}"
npx esbuild "$here/$script" --bundle --platform=node --format=esm --conditions=@facet/source \
  --external:@tensorflow/* --external:sharp --external:@resvg/* \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$here/dist/${script%.ts}.mjs" --log-level=warning
node "$here/dist/${script%.ts}.mjs" "$@"
