#!/usr/bin/env bash
# Weft on a local cluster: 3 real nodes (kubelet, containerd, kube-proxy, each in its own
# network namespace and filesystem view) over 2 subnets, a real control plane, Weft installed
# with `kubectl apply -k`, CoreDNS, a Deployment behind a Service.
#   sudo bash scripts/demo.sh        # up: runs the connectivity checks and prints what to try
#   sudo bash scripts/demo.sh up --namespace-pods   # faster: bare node namespaces, agents as processes
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
    if [[ " $* " != *" --namespace-pods "* ]]; then
      # Real nodes run the node images: pause, agnhost, CoreDNS and the Weft image (scripts/image.sh).
      WEFT_NODE_IMAGES_DIR=$(bash e2e/images/build.sh | tail -n 1)
      export WEFT_NODE_IMAGES_DIR
    fi
    exec node_modules/.bin/node dist/e2e/demo/cli.js up "$@"
    ;;
  down)
    [[ -f dist/e2e/demo/cli.js ]] || bash scripts/build.sh
    exec node_modules/.bin/node dist/e2e/demo/cli.js down "$@"
    ;;
  *)
    echo "usage: sudo bash scripts/demo.sh [up|down] [--name demo] [--namespace-pods]" >&2
    exit 2
    ;;
esac
