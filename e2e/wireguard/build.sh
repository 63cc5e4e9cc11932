#!/usr/bin/env bash
# Builds wireguard-go, the userspace WireGuard, from the Go module proxy (this folder's go.mod
# pins it; its dependency graph is wireguard-go's own). It provides the `weft.wg` device where
# the kernel has no WireGuard module (as on these machines): the WireGuard namespace tests and,
# later, the agent image. `wg` itself is Debian's wireguard-tools (scripts/host-tools.txt).
# Cached by version and by the hash of the module and of the build scripts; a warm cache
# returns at once, without Go. Prints the directory holding `wireguard-go` on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cached-build.sh"
inputs=("$here/build.sh" "$here/../lib/cached-build.sh" "$here/go.mod" "$here/go.sum")
stamp=$(cat "${inputs[@]}" | sha256sum | cut -c1-12)
module=golang.zx2c4.com/wireguard
wg_version=$(awk -v m="$module" '$1 == "require" && $2 == m { print $3 }' "$here/go.mod")
if [[ -z $wg_version ]]; then
  echo "$log_name: $here/go.mod has no 'require $module <version>' line" >&2
  exit 1
fi
# v0.0.0-20260522210424-ecfc5a8d5446 → 20260522-ecfc5a8d5446 (the module has no release tags).
short=$(sed -E 's/^v0\.0\.0-([0-9]{8})[0-9]{6}-([0-9a-f]{12})$/\1-\2/' <<<"$wg_version")
out="$cache_root/wireguard-go-$short-$stamp"

if cache_hit "$out" wireguard-go; then
  echo "$out"
  exit 0
fi

begin_build "wireguard-go (install Go >= 1.26.8, which this folder's go.mod names)"
echo "$log_name: building wireguard-go $wg_version into $out" >&2
go_build "wireguard-go $wg_version" "$here" "$build_tmp" -ldflags "-s -w" "$module"
# `go build` names the binary after the package's last path element.
mv "$build_tmp/wireguard" "$build_tmp/wireguard-go"
finish_build "$out" wireguard-go
