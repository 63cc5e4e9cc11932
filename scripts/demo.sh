#!/usr/bin/env bash
# Weft on a local cluster: 3 nodes (network namespaces) over 2 subnets, a real
# control plane, one agent per node, 2 pods per node made through the installed CNI.
#   sudo bash scripts/demo.sh        # up: prints the pods, a ping matrix and what to try
#   sudo bash scripts/demo.sh down   # removes everything (also after a crash)
# Touches only namespaces, processes and files named after the cluster (wcdemo-*,
# /tmp/weft-e2e/demo); nothing in the machine's own network namespace.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cmd=${1:-up}
shift || true
case "$cmd" in
  up)
    bash scripts/prereqs.sh
    bash scripts/build.sh
    exec node_modules/.bin/node dist/e2e/demo/cli.js up "$@"
    ;;
  down)
    [[ -f dist/e2e/demo/cli.js ]] || bash scripts/build.sh
    exec node_modules/.bin/node dist/e2e/demo/cli.js down "$@"
    ;;
  *)
    echo "usage: sudo bash scripts/demo.sh [up|down] [--name demo]" >&2
    exit 2
    ;;
esac
