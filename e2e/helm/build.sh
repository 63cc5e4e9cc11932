#!/usr/bin/env bash
# Builds helm from the Go module proxy (this folder's go.mod pins it; its dependency graph is
# exactly helm's own release). helm renders and lints charts/weft: scripts/manifests-from-chart.ts,
# the chart tests and the real-node e2e. Cached by version and by the hash of the module and of
# the build scripts; a warm cache returns at once, without Go. Prints the directory holding
# `helm` on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$here/../lib/cached-build.sh
source "$lib"

helm_version=$(sed -n 's|^require helm\.sh/helm/v3 \(v[0-9.]*\)$|\1|p' "$here/go.mod")
[[ -n $helm_version ]] || { echo "$log_name: no 'require helm.sh/helm/v3 <version>' line in $here/go.mod" >&2; exit 1; }
# The Kubernetes API version helm lints and renders against (.Capabilities.KubeVersion), as
# helm's Makefile derives it from its k8s.io/client-go requirement (v0.X.Y → 1.X).
k8s_minor=$(sed -n 's|^\tk8s\.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$here/go.mod")
[[ -n $k8s_minor ]] || { echo "$log_name: no k8s.io/client-go v0.X requirement in $here/go.mod" >&2; exit 1; }
stamp=$(cat "$here/build.sh" "$lib" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
out="$cache_root/helm-${helm_version#v}-$stamp"

if cache_hit "$out" helm; then
  echo "$out"
  exit 0
fi

begin_build "helm (install Go >= 1.26, which helm $helm_version's go.mod requires)"
echo "$log_name: building helm $helm_version into $out" >&2
pkg=helm.sh/helm/v3
go_build "helm $helm_version" "$here" "$build_tmp" -ldflags "-s -w -X $pkg/internal/version.version=$helm_version \
  -X $pkg/internal/version.gitTreeState=clean \
  -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
  -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
  $pkg/cmd/helm
finish_build "$out" helm
