#!/bin/sh
# Writes the image's commands into $2, pointing at the built app in $1.
# Used by the Dockerfile; the tests run the same wrappers against dist/.
set -eu
app=$1
bin=$2
write() {
  printf '#!/bin/sh\nexec node %s/dist/%s "$@"\n' "$app" "$2" > "$bin/$1"
  chmod 0755 "$bin/$1"
}
write weft-agent agent/src/main.js
write weft-controller controller/src/main.js
write weft agent/src/status/cli.js
