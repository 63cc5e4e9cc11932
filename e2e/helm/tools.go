//go:build tools

// Package helm pins the helm command that renders and lints charts/weft (scripts/manifests-from-chart.sh,
// the chart tests, the real-node e2e). It is built by build.sh; nothing imports it.
package helm

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
