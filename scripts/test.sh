#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs prerequisites, builds,
# lints, then runs every test — unit, namespace integration and the local-cluster
# e2e on a real control plane — in one node:test run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

bash scripts/prereqs.sh
export PATH="$repo/node_modules/.bin:$PATH:/usr/local/go/bin"
WEFT_K8S_BIN_DIR=$(bash e2e/controlplane/build.sh | tail -n 1)
export WEFT_K8S_BIN_DIR

npm run --silent build
npm run --silent lint
echo "test.sh: node $(node --version), kubernetes binaries in $WEFT_K8S_BIN_DIR" >&2
node --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec "dist/**/*.test.js"
