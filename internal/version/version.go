// Package version is the build's version, the one answer for --version,
// the build_info metric and the MCP client implementation info.
package version

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Version is stamped at build time:
//
//	go build -ldflags "-X github.com/mcp-operator/mcp-operator/internal/version.Version=v0.2.0"
//
// (make build and the Dockerfile do). Unstamped builds report the VCS
// revision Go records, as devel+<revision>[-dirty].
var Version = ""

// Get is the version of this build.
var Get = sync.OnceValue(func() string {
	if Version != "" {
		return Version
	}
	rev, dirty := revision()
	if rev == "" {
		return "devel"
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel+" + rev
})

// revision is the VCS revision (12 hex digits) Go embedded, if any.
func revision() (rev string, dirty bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev, dirty
}

// String is the one-line answer to --version for binary.
func String(binary string) string {
	return "mcp-operator " + binary + " " + Get() + " (" + runtime.Version() + ")"
}

// Collector is the mcp_operator_build_info gauge: always 1, labelled with
// the version and the Go version.
func Collector() prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mcp_operator_build_info",
		Help: "Always 1; labelled with the version of mcp-operator and the Go version it was built with.",
	}, []string{"version", "go_version"})
	g.WithLabelValues(Get(), runtime.Version()).Set(1)
	return g
}

// BindFlag registers --version on fs: it prints String(binary) and exits 0
// as soon as it is parsed.
func BindFlag(fs *flag.FlagSet, binary string) {
	fs.BoolFunc("version", "Print the version and exit.", func(string) error {
		fmt.Println(String(binary))
		os.Exit(0)
		return nil
	})
}
