#!/usr/bin/env bash
# Builds the upstream Kubernetes e2e test binary cut down to the sig-network
# specs (network_test.go) and the ginkgo CLI of the same module graph, from
# the Go module proxy, into a cache keyed by version and by the hash of this
# module (go.mod, go.sum, *.go). A warm cache returns at once.
# Prints the directory holding e2e-network.test and ginkgo on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kube_version=v1.33.13
cache_root=${WEFT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}
stamp=$(cd "$here" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)
out="$cache_root/e2e-network-$kube_version-$stamp"
bins=(e2e-network.test ginkgo)

have_all() {
  local b
  for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || return 1; done
}

if have_all; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is required to build the e2e suite (install Go >= 1.24)" >&2; exit 1; }
mkdir -p "$cache_root"
tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ver_pkg=k8s.io/component-base/version
ldflags="-s -w -X $ver_pkg.gitVersion=$kube_version -X $ver_pkg.gitMajor=1 -X $ver_pkg.gitMinor=33 -X $ver_pkg.gitTreeState=clean"
start=$(date +%s)
cd "$here"
# -mod=readonly: the committed go.mod/go.sum are complete; a build never edits
# them (that would change the cache key under our feet).
export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS="-mod=readonly -buildvcs=false"
echo "build.sh: building the Kubernetes $kube_version sig-network e2e suite into $out (cold builds take several minutes)" >&2
go test -c -trimpath -ldflags "$ldflags" -o "$tmp/e2e-network.test" .
go build -trimpath -ldflags "-s -w" -o "$tmp/ginkgo" github.com/onsi/ginkgo/v2/ginkgo
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
