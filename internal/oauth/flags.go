package oauth

import "flag"

// BindFlags registers the egress flags both binaries share, so their names,
// defaults and help are defined once.
func (p *EgressPolicy) BindFlags(fs *flag.FlagSet) {
	fs.BoolVar(&p.AllowLoopback, "allow-loopback-egress", false,
		"Allow outbound OAuth and MCP calls to loopback addresses. For tests and the local demo only.")
	fs.BoolVar(&p.AllowInsecureHTTP, "allow-insecure-http", false,
		"Allow outbound OAuth and MCP calls over plain http to any host. For tests and the local demo only; MCP traffic (not OAuth) to in-cluster Service names (*.svc, *.svc.cluster.local) never needs it.")
}
