#!/usr/bin/env bash
# Builds what a real node runs besides the Kubernetes binaries (those come from
# e2e/controlplane/build.sh): containerd, its runc shim and ctr; crictl; the reference CNI
# plugins (portmap, loopback, bridge, host-local); and CoreDNS with the cluster-DNS plugins.
# All from the Go module proxy, static (CGO_ENABLED=0). runc is Debian's (scripts/host-tools.txt).
#
# One Go module per component, each pinning exactly its upstream release's dependency graph:
# in a single module, minimal version selection would lift CoreDNS 1.12's k8s.io/client-go
# v0.31 and grpc v1.68 to containerd 2.3's v0.36 and v1.83 and build a combination nobody
# released or tested. The versions below are read from those go.mod files.
#
# Cached by version and by the hash of the modules and of the build scripts; a warm cache
# returns at once, without Go. Prints the directory on its last line: containerd,
# containerd-shim-runc-v2, ctr, crictl and coredns in it, the CNI plugins in its cni/ (a CNI
# bin dir of their own). Figures: docs/local-cluster.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$here/../lib/cached-build.sh
source "$lib"

# pinned <component dir> <module>: the version its go.mod requires.
pinned() {
  awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$here/$1/go.mod"
}
containerd_version=$(pinned containerd github.com/containerd/containerd/v2)
crictl_version=$(pinned crictl sigs.k8s.io/cri-tools)
cni_version=$(pinned cni-plugins github.com/containernetworking/plugins)
coredns_version=$(pinned coredns github.com/coredns/coredns)
stamp=$(cat "$here/build.sh" "$lib" "$here"/*/go.mod "$here"/*/go.sum "$here"/*/*.go | sha256sum | cut -c1-12)
out="$cache_root/nodebin-containerd-${containerd_version#v}-crictl-${crictl_version#v}-cni-${cni_version#v}-coredns-${coredns_version#v}-$stamp"
bins=(containerd containerd-shim-runc-v2 ctr crictl coredns cni/portmap cni/loopback cni/bridge cni/host-local)

if cache_hit "$out" "${bins[@]}"; then
  echo "$out"
  exit 0
fi

begin_build "the node binaries (install Go >= 1.26.8, which containerd's and the CNI plugins' go.mod require)"
echo "$log_name: building containerd $containerd_version, crictl $crictl_version, CNI plugins $cni_version, CoreDNS $coredns_version into $out" >&2

# Tags as upstream's Makefile sets them; btrfs needs cgo and is left out explicitly.
pkg=github.com/containerd/containerd/v2
go_build "containerd $containerd_version" "$here/containerd" "$build_tmp" -tags "no_btrfs urfave_cli_no_docs" \
  -ldflags "-s -w -X $pkg/version.Version=$containerd_version -X $pkg/version.Package=$pkg" \
  $pkg/cmd/containerd $pkg/cmd/containerd-shim-runc-v2 $pkg/cmd/ctr
# cri-tools' Makefile stamps the version without its "v".
go_build "crictl $crictl_version" "$here/crictl" "$build_tmp" \
  -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${crictl_version#v}" sigs.k8s.io/cri-tools/cmd/crictl
pkg=github.com/containernetworking/plugins
go_build "CNI plugins $cni_version" "$here/cni-plugins" "$build_tmp/cni" \
  -ldflags "-s -w -X $pkg/pkg/utils/buildversion.BuildVersion=$cni_version" \
  $pkg/plugins/meta/portmap $pkg/plugins/main/loopback $pkg/plugins/main/bridge $pkg/plugins/ipam/host-local
go_build "CoreDNS $coredns_version" "$here/coredns" "$build_tmp" -ldflags "-s -w" .
finish_build "$out" "${bins[@]}"
