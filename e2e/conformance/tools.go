//go:build tools

// Package conformance pins the ginkgo CLI at the version of the e2e module
// graph (the CLI and the test binary must agree). It is built by build.sh;
// nothing imports it.
package conformance

import (
	_ "github.com/onsi/ginkgo/v2/ginkgo"
)
