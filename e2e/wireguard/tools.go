//go:build tools

// Package wireguard pins wireguard-go, the userspace WireGuard that provides the `weft.wg`
// device on kernels without the WireGuard module (the namespace tests, this machine, the image).
// It is built by build.sh; nothing imports it.
package wireguard

import (
	_ "golang.zx2c4.com/wireguard"
)
