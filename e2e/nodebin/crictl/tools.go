//go:build tools

// Package crictl pins crictl, the CRI client for inspecting a node's containerd.
// It is built by ../build.sh; nothing imports it.
package crictl

import (
	_ "sigs.k8s.io/cri-tools/cmd/crictl"
)
