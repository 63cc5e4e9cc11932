// Command coredns is CoreDNS (the version kubeadm 1.33 deploys) with only the plugins that
// cluster DNS uses: those of kubeadm's default Corefile (errors, health, ready, kubernetes,
// prometheus, forward, cache, loop, reload, loadbalance) plus log and hosts, and the four
// those import themselves: debug and dnstap (forward), metadata (cache, forward, kubernetes)
// and transfer (kubernetes).
// Upstream's own main (coredns.go) blank-imports core/plugin, which pulls in every plugin and
// its cloud SDKs; this one compiles in a fraction of the time. Built by ../build.sh.
package main

import (
	"fmt"
	"strings"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// Each plugin registers its directive in init().
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

const serverType = "dns"

// dnsserver.Directives is the order in which plugins handle a query, whatever their order in
// the Corefile. Upstream generates it from plugin.cfg for the full plugin set; keep that order
// and drop what is not compiled in, so a Corefile naming a missing plugin fails to parse
// ("unknown directive") instead of failing later in setup.
func init() {
	compiled := map[string]bool{}
	for _, name := range caddy.ListPlugins()["others"] {
		if d, ok := strings.CutPrefix(name, serverType+"."); ok {
			compiled[d] = true
		}
	}
	var order []string
	for _, d := range dnsserver.Directives {
		if compiled[d] {
			order = append(order, d)
			delete(compiled, d)
		}
	}
	if len(compiled) > 0 {
		// A plugin without a place in the order would be registered but never run.
		panic(fmt.Sprintf("coredns: plugins missing from dnsserver.Directives: %v", compiled))
	}
	dnsserver.Directives = order
}

func main() { coremain.Run() }
