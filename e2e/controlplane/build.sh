#!/usr/bin/env bash
# Builds the Kubernetes binaries the local clusters run from the Go module proxy (this folder's
# go.mod pins them): the control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl), the node components (kubelet, kube-proxy), agnhost (the
# upstream e2e suite's test-image command) and regression-issue-74839 (the server of one
# sig-network spec). One `go build` for all of them, so shared packages compile once and in
# parallel. Cached by version and by the hash of go.mod/go.sum; a warm
# cache returns at once. Prints the directory holding the binaries on its last line.
# Figures: docs/local-cluster.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cached-build.sh"
kube_version=v1.33.13
# agnhost's own version (test/images/agnhost/VERSION), the tag the 1.33 e2e suite pins.
agnhost_version=2.53
stamp=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
out="$cache_root/k8s-$kube_version-$stamp"
# binary name → Go package; `go build -o dir/` names each binary after its package path's last
# element (for etcd's .../server/v3, "server"), renamed below.
declare -A pkgs=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kube-proxy]=k8s.io/kubernetes/cmd/kube-proxy
  [agnhost]=k8s.io/kubernetes/test/images/agnhost
  # the server of Conntrack's "invalid conntrack state bug" spec (its image: e2e/images)
  [regression-issue-74839]=k8s.io/kubernetes/test/images/regression-issue-74839
)
mapfile -t bins < <(printf '%s\n' "${!pkgs[@]}" | sort)

if cache_hit "$out" "${bins[@]}"; then
  echo "$out"
  exit 0
fi

begin_build "the Kubernetes binaries (install Go >= 1.24)"
ver_pkg=k8s.io/component-base/version
# -X main.Version reaches agnhost only: the other main packages have no such variable.
ldflags="-s -w -X $ver_pkg.gitVersion=$kube_version -X $ver_pkg.gitMajor=1 -X $ver_pkg.gitMinor=33 -X $ver_pkg.gitTreeState=clean -X main.Version=$agnhost_version"
echo "$log_name: building Kubernetes $kube_version (${bins[*]}) into $out (cold builds take many minutes)" >&2
go_build "Kubernetes $kube_version" "$here" "$build_tmp" -ldflags "$ldflags" "${pkgs[@]}"
mv "$build_tmp/server" "$build_tmp/etcd"
finish_build "$out" "${bins[@]}"
