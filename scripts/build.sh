#!/usr/bin/env bash
# The one build: TypeScript to dist/ and the static CNI shim to build/weft-cni-shim.
# Used by `npm run build`, the tests and the Dockerfile alike.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
node node_modules/typescript/bin/tsc -p tsconfig.json
bash agent/cni-shim/build.sh "$repo/build/weft-cni-shim" >/dev/null
