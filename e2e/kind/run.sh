#!/usr/bin/env bash
# Weft on kind: create a cluster without a CNI, build and load the image, apply
# manifests/, wait for the agents and CoreDNS, then run the connectivity checks that the
# local real-node cluster runs too (e2e/checks, workloads e2e/workloads/checks.yaml).
# Needs docker, kind, kubectl and Node.js 24. Usage: e2e/kind/run.sh [--keep]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cluster=${WEFT_KIND_CLUSTER:-weft-e2e}
image=ghcr.io/weft-net/weft:0.1.0
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true
external=weft-e2e-external

for tool in docker kind kubectl node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 1; }
done

cleanup() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "run.sh: FAILED; agent logs:" >&2
    kubectl -n weft-system logs ds/weft-agent --tail=50 --prefix --all-containers 2>/dev/null | tail -100 >&2 || true
  fi
  docker rm -f "$external" >/dev/null 2>&1 || true
  $keep || kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
check() { printf '  ok: %s\n' "$*"; }
fail() { printf '  FAIL: %s\n' "$*" >&2; exit 1; }

step "cluster and image"
kind get clusters 2>/dev/null | grep -qx "$cluster" || kind create cluster --name "$cluster" --config "$repo/e2e/kind/kind-config.yaml" --wait 0s
docker build -t "$image" "$repo"
kind load docker-image "$image" --name "$cluster"

step "install Weft"
kubectl apply -f "$repo/manifests/"
kubectl -n weft-system rollout status ds/weft-agent --timeout=180s
kubectl -n weft-system rollout status deploy/weft-controller --timeout=180s
kubectl wait --for=condition=Ready nodes --all --timeout=180s
kubectl -n kube-system rollout status deploy/coredns --timeout=180s
kubectl -n weft-system exec ds/weft-agent -- weft status

step "workloads"
kubectl apply -f "$repo/e2e/workloads/checks.yaml"
kubectl -n weft-e2e rollout status ds/echo --timeout=180s
kubectl -n weft-e2e rollout status ds/client --timeout=180s

step "external host"
docker run -d --rm --name "$external" --network kind registry.k8s.io/e2e-test-images/agnhost:2.53 netexec --http-port=8080 >/dev/null
ext_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$external")

# The same check list as the local real-node cluster's e2e and demo (e2e/checks/connectivity.ts):
# pod<->pod on every pair of nodes (no NAT), ClusterIP, DNS, headless, hostPort, NodePort,
# egress masquerade, kubectl logs.
step "connectivity checks"
(cd "$repo" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null && npm run --silent build)
node "$repo/dist/e2e/checks/cli.js" --external-url "http://$ext_ip:8080/clientip"

printf '\nall checks passed\n'
