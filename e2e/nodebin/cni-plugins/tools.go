//go:build tools

// Package cniplugins pins the reference CNI plugins: portmap (Weft's conflist chains it),
// loopback (for a pod's lo) and bridge and host-local (the benchmarks' baseline network).
// It is built by ../build.sh; nothing imports it.
package cniplugins

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/bridge"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
)
