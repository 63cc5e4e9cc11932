#!/usr/bin/env bash
# A Debian root filesystem made locally with `debootstrap --variant=minbase`: the common base of
# the images built on machines without a reachable container registry. scripts/image.sh puts
# Node on a copy of it (the Dockerfile's FROM image); e2e/images/build.sh builds the agnhost
# image and CoreDNS's build stage on it.
#
# Usage: debian-base.sh rootfs [suite]  make it when missing; print the rootfs directory
#                                       (shared and cached: copy it, never change it)
#        debian-base.sh image [suite]   also import it into podman; print the image name,
#                                       localhost/weft-debian-base:<suite>-<recipe hash>
#        debian-base.sh hash [suite]    print the recipe hash only
# Suite: default bookworm. Env: WEFT_IMAGE_CACHE (default /var/cache/weft-image).
#
# The rootfs is Debian's minbase with the three apt sources of the official Debian images and
# no package lists, archives or logs. It is made once per recipe (suite, mirror, variant,
# sources) in $WEFT_IMAGE_CACHE/debian-<hash>/; concurrent callers wait on a lock.
set -euo pipefail

mode=${1:-}
suite=${2:-bookworm}
mirror=http://deb.debian.org/debian
say() { echo "debian-base.sh: $*" >&2; }
die() { say "$*"; exit 1; }

case $mode in
  rootfs | image | hash) ;;
  *) die "usage: debian-base.sh rootfs|image|hash [suite]" ;;
esac
[[ $suite =~ ^[a-z]+$ ]] || die "not a Debian suite name: $suite"

recipe="weft-debian-base v1 suite=$suite mirror=$mirror variant=minbase sources=main,updates,security"
hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
if [[ $mode == hash ]]; then
  echo "$hash"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, podman storage)"
cache=${WEFT_IMAGE_CACHE:-/var/cache/weft-image}
dir=$cache/debian-$hash
rootfs=$dir/rootfs
image=localhost/weft-debian-base:$suite-$hash
mkdir -p "$dir"
exec {lock}>"$dir/lock"
flock "$lock"

if [[ ! -f $dir/rootfs.done ]]; then
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/prereqs.sh installs it)"
  rm -rf "$rootfs"
  say "debootstrap --variant=minbase $suite (Debian packages, ~1 min)"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $dir/debootstrap.log"
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  touch "$dir/rootfs.done"
fi

if [[ $mode == image ]] && ! podman image exists "$image"; then
  say "importing $rootfs as $image"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL org.weft.base-recipe=$hash" \
    - "$image" >"$dir/import.log" 2>&1 || die "podman import failed; see $dir/import.log"
fi

if [[ $mode == image ]]; then echo "$image"; else echo "$rootfs"; fi
