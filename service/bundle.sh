#!/bin/sh
# Bundles the service into one JavaScript file per entry point (main.js, healthcheck.js) with
# source maps. service/Dockerfile runs this, and so do the tests and the benchmark, so they check
# exactly what the image runs. Run from the repository root:  sh service/bundle.sh <outdir>
set -eu
outdir="${1:?usage: sh service/bundle.sh <outdir>}"
exec node_modules/.bin/esbuild service/src/main.ts service/src/healthcheck.ts \
  --bundle --platform=node --target=node22 --format=cjs \
  --sourcemap --sources-content=false --legal-comments=none --log-level=warning \
  --outdir="$outdir"
