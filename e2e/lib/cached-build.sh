# Sourced by the scripts that build Go binaries from the module proxy into a directory of the
# cache ($WEFT_CACHE_DIR, default ~/.cache/weft): e2e/controlplane/build.sh, e2e/nodebin/build.sh.
# A cache directory is complete or absent: the build goes to a temporary directory beside it,
# renamed into place once every binary is there.

cache_root=${WEFT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weft}
log_name=$(basename "$(dirname "$0")")/$(basename "$0")

# cache_hit <dir> <binary...>: every binary is in <dir> and executable.
cache_hit() {
  local dir=$1 b
  shift
  for b; do [[ -x "$dir/$b" ]] || return 1; done
}

# begin_build <what Go is needed for, and which Go>: sets build_tmp (removed when the script
# exits, unless finish_build moved it into place) and the environment of a static build.
begin_build() {
  command -v go >/dev/null || { echo "$log_name: Go is required to build $1" >&2; exit 1; }
  mkdir -p "$cache_root"
  build_tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
  trap 'rm -rf "$build_tmp"' EXIT
  export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=-mod=mod
}

# go_build <label> <module dir> <output dir> <go build flags and packages...>: one `go build`
# in that module; logs the module download and the compile time apart.
go_build() {
  local label=$1 dir=$2 dest=$3 start fetched
  shift 3
  mkdir -p "$dest"
  start=$(date +%s)
  (cd "$dir" && go mod download)
  fetched=$(date +%s)
  (cd "$dir" && go build -trimpath -o "$dest/" "$@")
  echo "$log_name: $label: modules in $((fetched - start))s, compiled in $(($(date +%s) - fetched))s" >&2
}

# finish_build <dir> <binary...>: checks that the build left every binary, moves it to <dir>
# and prints <dir>, the script's last line of output.
finish_build() {
  local dir=$1 b
  shift
  for b; do
    [[ -x "$build_tmp/$b" ]] || { echo "$log_name: the build left no $b in $build_tmp" >&2; exit 1; }
  done
  rm -rf "$dir"
  mv "$build_tmp" "$dir"
  trap - EXIT
  echo "$dir"
}
