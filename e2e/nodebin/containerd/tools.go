//go:build tools

// Package containerd pins the containerd commands a real node runs.
// It is built by ../build.sh; nothing imports it.
package containerd

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/containerd/containerd/v2/cmd/ctr"
)
