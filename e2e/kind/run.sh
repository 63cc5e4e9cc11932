#!/usr/bin/env bash
# Weft on kind: create a cluster without a CNI, build and load the image, apply
# manifests/, wait for the agents and CoreDNS, then check connectivity:
# pod<->pod across nodes (no NAT), pod->Service ClusterIP, DNS, hostPort, and
# egress masquerade to a host outside the cluster.
# Needs docker, kind and kubectl. Usage: e2e/kind/run.sh [--keep]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cluster=${WEFT_KIND_CLUSTER:-weft-e2e}
image=ghcr.io/weft-net/weft:0.1.0
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true
external=weft-e2e-external

for tool in docker kind kubectl; do
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
kubectl apply -f "$repo/e2e/kind/checks.yaml"
kubectl -n weft-e2e rollout status ds/echo --timeout=180s
kubectl -n weft-e2e rollout status ds/client --timeout=180s

mapfile -t clients < <(kubectl -n weft-e2e get pods -l app=client -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\n"}{end}')
mapfile -t echos < <(kubectl -n weft-e2e get pods -l app=echo -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.hostIP}{"\n"}{end}')
fetch() { # client-pod url
  kubectl -n weft-e2e exec "$1" -- wget -qO- -T 5 "$2"
}

step "pod to pod on every node (source address kept)"
for c in "${clients[@]}"; do
  read -r cpod cnode cip <<<"$c"
  for e in "${echos[@]}"; do
    read -r _ enode eip _ <<<"$e"
    seen=$(fetch "$cpod" "http://$eip:8080/clientip") || fail "$cpod ($cnode) -> $eip ($enode)"
    [[ "${seen%:*}" == "$cip" ]] || fail "$cpod -> $eip: server saw ${seen%:*}, want $cip (no NAT inside the cluster)"
    check "$cnode -> $enode ($eip) from $cip"
  done
done

step "Service ClusterIP and DNS"
read -r cpod _ _ <<<"${clients[0]}"
svc=$(kubectl -n weft-e2e get svc echo -o jsonpath='{.spec.clusterIP}')
fetch "$cpod" "http://$svc:80/hostname" >/dev/null || fail "ClusterIP $svc"
check "ClusterIP $svc"
kubectl -n weft-e2e exec "$cpod" -- nslookup echo.weft-e2e.svc.cluster.local | grep -q "$svc" || fail "DNS"
check "DNS echo.weft-e2e.svc.cluster.local -> $svc"

step "hostPort"
for e in "${echos[@]}"; do
  read -r _ enode _ ehost <<<"$e"
  fetch "$cpod" "http://$ehost:18080/hostname" >/dev/null || fail "hostPort $ehost:18080 ($enode)"
  check "hostPort $enode $ehost:18080"
done

step "egress masquerade"
docker run -d --rm --name "$external" --network kind registry.k8s.io/e2e-test-images/agnhost:2.53 netexec --http-port=8080 >/dev/null
ext_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$external")
for c in "${clients[@]}"; do
  read -r cpod cnode cip <<<"$c"
  node_ip=$(kubectl get node "$cnode" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
  seen=""
  for _ in 1 2 3 4 5; do seen=$(fetch "$cpod" "http://$ext_ip:8080/clientip") && break; sleep 2; done
  [[ "${seen%:*}" == "$node_ip" ]] || fail "$cpod -> external saw '${seen%:*}', want node IP $node_ip"
  check "$cnode: egress leaves as $node_ip"
done

printf '\nall checks passed\n'
