package version

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStampedVersionIsUsedEverywhere(t *testing.T) {
	// Get is computed once: stamp before the first call, as the linker does.
	Version = "v9.8.7"
	if got := Get(); got != "v9.8.7" {
		t.Fatalf("Get = %q", got)
	}
	if s := String("manager"); !strings.HasPrefix(s, "mcp-operator manager v9.8.7 (go") {
		t.Errorf("String = %q", s)
	}
	want := `
# HELP mcp_operator_build_info Always 1; labelled with the version of mcp-operator and the Go version it was built with.
# TYPE mcp_operator_build_info gauge
mcp_operator_build_info{go_version="` + runtime.Version() + `",version="v9.8.7"} 1
`
	if err := testutil.CollectAndCompare(Collector(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
