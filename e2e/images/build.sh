#!/usr/bin/env bash
# Builds the images that pods use on the real-node cluster, under their upstream names, and
# writes one OCI archive per image, to be imported into every node's containerd
# (e2e/images/import.ts). Pods never pull: everything they run is made here.
#
#   pause    registry.k8s.io/pause:3.10                    pause/: our own pause.c, static
#   agnhost  registry.k8s.io/e2e-test-images/agnhost:2.53  agnhost/: agnhost on Debian minbase
#   coredns  registry.k8s.io/coredns/coredns:v1.12.0       coredns/: coredns on an empty image
#   weft     ghcr.io/weft-net/weft:<package.json version>  scripts/image.sh (the Dockerfile)
# and the other images the upstream sig-network e2e specs run (e2e/conformance/images.md):
#   jessie-dnsutils        registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7    Debian + dig
#   nginx                  registry.k8s.io/e2e-test-images/nginx:1.14-4           Debian's nginx-light
#   busybox                registry.k8s.io/e2e-test-images/busybox:1.36.1-1       busybox-static only
#   regression-issue-74839 registry.k8s.io/e2e-test-images/regression-issue-74839:1.2  static binary only
#   distroless-iptables    registry.k8s.io/build-image/distroless-iptables:v0.8.11  Debian + conntrack
#
# The agnhost and regression-issue-74839 binaries come from the Kubernetes binaries cache,
# coredns from the node binaries cache; all are built elsewhere, never here. Each archive is cached by the hash of its inputs
# (binaries' sha256, Containerfile, base recipe; for weft the image ID): a warm run only hashes.
#
# Usage: build.sh [KEY ...]   (default: all of the above)
# Writes $dir/<key>-<inputs hash>.oci.tar (podman save --format oci-archive) and $dir/<key>.json
# ({"name", "archive", "digest" of the manifest, "inputs", "bytes"}); prints $dir on its last line.
# Env: WEFT_NODE_IMAGES_DIR (the archives' dir; default $WEFT_IMAGE_CACHE/node-images),
#      WEFT_IMAGE_CACHE (default /var/cache/weft-image),
#      WEFT_K8S_BIN_DIR (the dir with agnhost, regression-issue-74839), WEFT_NODE_BIN_DIR (the dir with coredns); unset,
#      the newest $WEFT_CACHE_DIR/k8s-*/agnhost and nodebin-*/coredns (default ~/.cache/weft).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

pause_tag=3.10
agnhost_tag=2.53
coredns_tag=v1.12.0
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/package.json" | head -n 1)
declare -A names=(
  [pause]=registry.k8s.io/pause:$pause_tag
  [agnhost]=registry.k8s.io/e2e-test-images/agnhost:$agnhost_tag
  [coredns]=registry.k8s.io/coredns/coredns:$coredns_tag
  [weft]=${WEFT_IMAGE:-ghcr.io/weft-net/weft:$version}
  [jessie-dnsutils]=registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7
  [nginx]=registry.k8s.io/e2e-test-images/nginx:1.14-4
  [busybox]=registry.k8s.io/e2e-test-images/busybox:1.36.1-1
  [regression-issue-74839]=registry.k8s.io/e2e-test-images/regression-issue-74839:1.2
  [distroless-iptables]=registry.k8s.io/build-image/distroless-iptables:v0.8.11
)
all_keys=(pause agnhost coredns weft jessie-dnsutils nginx busybox regression-issue-74839 distroless-iptables)

say() { echo "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

keys=("$@")
((${#keys[@]})) || keys=("${all_keys[@]}")
for key in "${keys[@]}"; do [[ -n ${names[$key]:-} ]] || die "unknown image $key (${all_keys[*]})"; done
[[ $(id -u) -eq 0 ]] || die "must run as root (podman storage)"

cache=${WEFT_IMAGE_CACHE:-/var/cache/weft-image}
out=${WEFT_NODE_IMAGES_DIR:-$cache/node-images}
bin_cache=${WEFT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}
mkdir -p "$out"
exec {lock}>"$out/.lock"
flock "$lock"

# The same podman settings as scripts/image.sh (see docs/image.md).
RUNTIME_OPTS=(--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

# find_bin NAME DIR-FROM-ENV ENV-NAME GLOB-DIR: the binary, from the env's dir or the newest match.
find_bin() {
  local name=$1 dir=$2 env=$3 pattern=$4 found
  if [[ -n $dir ]]; then
    [[ -x $dir/$name ]] || die "$env=$dir has no executable $name"
    echo "$dir/$name"
    return
  fi
  # shellcheck disable=SC2086
  found=$(ls -1td $pattern/$name 2>/dev/null | head -n 1 || true)
  [[ -n $found && -x $found ]] ||
    die "no $name: set $env or build it into $pattern (this script does not build it)"
  echo "$found"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
hash_lines() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
static_elf() { ! readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; }

cached() { # KEY HASH: the archive of these inputs is there
  [[ -f $out/$1-$2.oci.tar && -f $out/$1.json ]] && grep -q "\"inputs\": \"$2\"" "$out/$1.json" &&
    grep -q '"digest": "sha256:' "$out/$1.json"
}

save_archive() { # KEY HASH: podman save, then the JSON record, then drop older archives of KEY
  local key=$1 hash=$2 name=${names[$1]} t0 archive bytes digest f
  t0=$(seconds)
  archive=$key-$hash.oci.tar
  rm -f "$out/.$archive.tmp"
  podman save --format oci-archive -o "$out/.$archive.tmp" "$name" >/dev/null 2>"$out/$key.save.log" ||
    die "podman save $name failed; see $out/$key.save.log"
  mv -f "$out/.$archive.tmp" "$out/$archive"
  bytes=$(stat -c %s "$out/$archive")
  digest=$(tar -xOf "$out/$archive" index.json | grep -o '"digest":"sha256:[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
  [[ -n $digest ]] || die "no manifest digest in $out/$archive"
  printf '{\n  "name": "%s",\n  "archive": "%s",\n  "digest": "%s",\n  "inputs": "%s",\n  "bytes": %s\n}\n' \
    "$name" "$archive" "$digest" "$hash" "$bytes" >"$out/.$key.json.tmp"
  mv -f "$out/.$key.json.tmp" "$out/$key.json"
  for f in "$out/$key"-*.oci.tar; do [[ $f == "$out/$archive" ]] || rm -f "$f"; done
  say "$key: saved $name in $(elapsed "$t0") s, archive $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
}

# build_image KEY HASH CONTEXT [podman build args...]
build_image() {
  local key=$1 hash=$2 ctx=$3 t0 old
  shift 3
  t0=$(seconds)
  old=$(podman image inspect --format '{{.Id}}' "${names[$key]}" 2>/dev/null || true)
  podman build "${RUNTIME_OPTS[@]}" --network host --pull=never --label "org.weft.node-image.inputs=$hash" \
    -t "${names[$key]}" -f "$here/$key/Containerfile" "$@" "$ctx" >"$out/$key.build.log" 2>&1 ||
    { tail -n 30 "$out/$key.build.log" >&2; die "podman build of ${names[$key]} failed; see $out/$key.build.log"; }
  say "$key: built ${names[$key]} in $(elapsed "$t0") s"
  # The image this name had before is left without a name: remove it (unless something uses it).
  if [[ -n $old && $old != $(podman image inspect --format '{{.Id}}' "${names[$key]}") &&
    -z $(podman image inspect --format '{{join .RepoTags ","}}' "$old" 2>/dev/null) ]]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
}

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
debian_image=

ensure_debian() {
  [[ -n $debian_image ]] || debian_image=$(bash "$repo/scripts/debian-base.sh" image | tail -n 1)
}

image_pause() {
  local ctx=$work/pause hash
  mkdir -p "$ctx"
  ${CC:-gcc} -std=c11 -static -O2 -Wall -Wextra -Werror -s -DPAUSE_VERSION="\"$pause_tag\"" \
    -o "$ctx/pause" "$here/pause/pause.c"
  hash=$(hash_lines "node-image v1 pause" "bin=$(sha "$ctx/pause")" "containerfile=$(sha "$here/pause/Containerfile")")
  cached pause "$hash" && { say "pause: cached ($hash)"; return; }
  build_image pause "$hash" "$ctx"
  save_archive pause "$hash"
}

coredns_bin() {
  local bin
  bin=$(find_bin coredns "${WEFT_NODE_BIN_DIR:-}" WEFT_NODE_BIN_DIR "$bin_cache/nodebin-*")
  static_elf "$bin" || die "$bin is not a static binary (the coredns image has no libc)"
  echo "$bin"
}

image_coredns() {
  local ctx=$work/coredns bin base_hash hash
  bin=$(coredns_bin)
  base_hash=$(bash "$repo/scripts/debian-base.sh" hash)
  hash=$(hash_lines "node-image v1 coredns" "bin=$(sha "$bin")" "base=$base_hash" \
    "containerfile=$(sha "$here/coredns/Containerfile")")
  cached coredns "$hash" && { say "coredns: cached ($hash)"; return; }
  "$bin" -version | grep -qx "CoreDNS-${coredns_tag#v}" ||
    die "$bin is not CoreDNS ${coredns_tag#v}: $("$bin" -version | head -n 1)"
  mkdir -p "$ctx"
  cp "$bin" "$ctx/coredns"
  ensure_debian
  build_image coredns "$hash" "$ctx" --build-arg "BASE=$debian_image"
  save_archive coredns "$hash"
}

image_agnhost() {
  local ctx=$work/agnhost bin dns base_hash hash
  bin=$(find_bin agnhost "${WEFT_K8S_BIN_DIR:-}" WEFT_K8S_BIN_DIR "$bin_cache/k8s-*")
  dns=$(coredns_bin)
  base_hash=$(bash "$repo/scripts/debian-base.sh" hash)
  hash=$(hash_lines "node-image v1 agnhost" "bin=$(sha "$bin")" "coredns=$(sha "$dns")" "base=$base_hash" \
    "containerfile=$(sha "$here/agnhost/Containerfile")")
  cached agnhost "$hash" && { say "agnhost: cached ($hash)"; return; }
  static_elf "$bin" || say "note: $bin is dynamically linked"
  mkdir -p "$ctx"
  cp "$bin" "$ctx/agnhost"
  cp "$dns" "$ctx/coredns"
  # porter's TLS certificate (SANs 127.0.0.1 and ::1, as upstream's), made with each build.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
    -keyout "$ctx/localhost.key" -out "$ctx/localhost.crt" 2>/dev/null
  chmod 0644 "$ctx/localhost.key"
  ensure_debian
  build_image agnhost "$hash" "$ctx" --build-arg "BASE=$debian_image"
  save_archive agnhost "$hash"
}

image_weft() {
  local t0 id hash
  t0=$(seconds)
  WEFT_IMAGE=${names[weft]} bash "$repo/scripts/image.sh"
  id=$(podman image inspect --format '{{.Id}}' "${names[weft]}")
  hash=${id:0:16}
  cached weft "$hash" && { say "weft: cached (image $hash), image.sh took $(elapsed "$t0") s"; return; }
  save_archive weft "$hash"
}

# Debian minbase plus packages, from the key's Containerfile alone (jessie-dnsutils, nginx,
# busybox's build stage, distroless-iptables): cached by the Containerfile and the base recipe.
image_debian() {
  local key=$1 ctx=$work/$1 base_hash hash
  base_hash=$(bash "$repo/scripts/debian-base.sh" hash)
  hash=$(hash_lines "node-image v1 $key" "base=$base_hash" "containerfile=$(sha "$here/$key/Containerfile")")
  cached "$key" "$hash" && { say "$key: cached ($hash)"; return; }
  mkdir -p "$ctx"
  ensure_debian
  build_image "$key" "$hash" "$ctx" --build-arg "BASE=$debian_image"
  save_archive "$key" "$hash"
}

image_regression() {
  local key=regression-issue-74839 ctx=$work/regression-issue-74839 bin hash
  bin=$(find_bin $key "${WEFT_K8S_BIN_DIR:-}" WEFT_K8S_BIN_DIR "$bin_cache/k8s-*")
  static_elf "$bin" || die "$bin is not a static binary (its image has no libc)"
  hash=$(hash_lines "node-image v1 $key" "bin=$(sha "$bin")" "containerfile=$(sha "$here/$key/Containerfile")")
  cached $key "$hash" && { say "$key: cached ($hash)"; return; }
  mkdir -p "$ctx"
  cp "$bin" "$ctx/$key"
  build_image $key "$hash" "$ctx"
  save_archive $key "$hash"
}

# Build stages (coredns's, busybox's) stay behind as unnamed images carrying the label; keep those of the
# archives recorded now (the layer cache of the next build) and remove older ones.
prune_stages() {
  local current id label
  current=$(sed -n 's/^  "inputs": "\(.*\)",$/\1/p' "$out"/*.json 2>/dev/null || true)
  for id in $(podman images --filter dangling=true --filter label=org.weft.node-image.inputs -q); do
    label=$(podman image inspect --format '{{index .Labels "org.weft.node-image.inputs"}}' "$id" 2>/dev/null || true)
    grep -qxF -- "$label" <<<"$current" || podman rmi "$id" >/dev/null 2>&1 || true
  done
}

t_all=$(seconds)
for key in "${keys[@]}"; do
  case $key in
    pause | agnhost | coredns | weft) "image_$key" ;;
    regression-issue-74839) image_regression ;;
    *) image_debian "$key" ;;
  esac
done
prune_stages
say "done in $(elapsed "$t_all") s: ${keys[*]}"
echo "$out"
