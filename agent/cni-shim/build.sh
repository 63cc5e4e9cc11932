#!/usr/bin/env bash
# Builds the Weft CNI shim: a static binary with no dependencies beyond libc.
# Usage: build.sh [output-path]   (default: <repo>/build/weft-cni-shim)
# Prints the output path on its last line. Used by the tests and the Dockerfile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../build/weft-cni-shim"}
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
${CC:-gcc} -std=c11 -static -O2 -Wall -Wextra -Werror -s -o "$tmp" "$here/weft-cni-shim.c"
mv -f "$tmp" "$out"
echo "$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
