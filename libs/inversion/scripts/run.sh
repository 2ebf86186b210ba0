#!/usr/bin/env bash
# Bundle a script of this folder against the libs' sources and run it (wasm engine unless FACET_BACKEND says).
#   libs/inversion/scripts/run.sh diagnose.ts runs/qs-inv runs/qs-inv-verifier
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../.."
script="$1"; shift
mkdir -p "$here/dist"
npx esbuild "$here/$script" --bundle --platform=node --format=esm --conditions=@facet/source \
  --external:@tensorflow/* --external:sharp --external:@resvg/* \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$here/dist/${script%.ts}.mjs" --log-level=warning
node "$here/dist/${script%.ts}.mjs" "$@"
