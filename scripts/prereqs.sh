#!/usr/bin/env bash
# Installs what building, testing and the local demo cluster need, on a fresh
# Debian machine: system packages, the npm dependencies (including Node 24 from
# the npm registry), and the Kubernetes binaries, containerd, crictl, CoreDNS and
# the CNI plugins built from the Go module proxy (cached under ~/.cache/weft).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [[ $(id -u) -ne 0 ]]; then
  echo "prereqs.sh: must run as root (network namespaces and apt need it)" >&2
  exit 1
fi

# Every program that tests, the demo or the benchmarks run is listed with its Debian package
# in host-tools.txt; the other packages here provide libraries and plugins, not commands.
mapfile -t tool_lines < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/host-tools.txt)
packages=(libc6-dev containernetworking-plugins)
for line in "${tool_lines[@]}"; do
  read -r _ pkg <<<"$line"
  packages+=("$pkg")
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "prereqs.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  # podman is installed with its recommended packages (as image.sh always did): the image
  # build relies on them; everything else without.
  plain=() rec=()
  for p in "${missing[@]}"; do if [[ $p == podman ]]; then rec+=("$p"); else plain+=("$p"); fi; done
  ((${#plain[@]} == 0)) || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
  ((${#rec[@]} == 0)) || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${rec[@]}" >/dev/null
fi
absent=()
for line in "${tool_lines[@]}"; do
  read -r cmd pkg <<<"$line"
  command -v "$cmd" >/dev/null || absent+=("$cmd (package $pkg)")
done
if ((${#absent[@]})); then
  echo "prereqs.sh: still missing after the install: ${absent[*]}" >&2
  exit 1
fi

command -v npm >/dev/null || { echo "prereqs.sh: npm is required (Debian package npm or nodejs)" >&2; exit 1; }
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [[ ! -x node_modules/.bin/node || "$(cat node_modules/.weft-lock 2>/dev/null)" != "$lock_hash" ]]; then
  echo "prereqs.sh: npm ci" >&2
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.weft-lock
fi

export PATH="$PATH:/usr/local/go/bin"
bin_dir=$(bash e2e/controlplane/build.sh | tail -n 1)
echo "prereqs.sh: Kubernetes binaries in $bin_dir" >&2
node_bin_dir=$(bash e2e/nodebin/build.sh | tail -n 1)
echo "prereqs.sh: containerd, crictl, CoreDNS and CNI plugins in $node_bin_dir" >&2
