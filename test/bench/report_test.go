package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, ok, err := ConfigFromEnv(getenv); ok || err != nil {
		t.Fatalf("without MCP_BENCH: ok=%t err=%v, want a skip", ok, err)
	}
	env["MCP_BENCH"] = "smoke"
	env["MCP_BENCH_SERVERS"] = "30"
	env["MCP_BENCH_IDLE"] = "2s"
	env["MCP_BENCH_USERS"] = "7"
	c, ok, err := ConfigFromEnv(getenv)
	if !ok || err != nil {
		t.Fatalf("smoke: ok=%t err=%v", ok, err)
	}
	if c.Servers != 30 || c.Idle != 2*time.Second || c.Latency != 50*time.Millisecond || c.ConnectUsers != 7 {
		t.Errorf("smoke with overrides = %+v", c)
	}
	if got := c.Sizes(); got[0] != 3 || got[1] != 10 || got[2] != 30 {
		t.Errorf("Sizes() = %v, want [3 10 30]", got)
	}
	if got := c.OutPath("/repo"); got != "/repo/bench/results-smoke.json" {
		t.Errorf("smoke OutPath = %s, want bench/results-smoke.json: a smoke run must not overwrite a full run's results", got)
	}
	if got := (Config{Mode: "full"}).OutPath("/repo"); got != "/repo/bench/results.json" {
		t.Errorf("full OutPath = %s", got)
	}
	if got := (Config{Mode: "smoke", Out: "/tmp/x.json"}).OutPath("/repo"); got != "/tmp/x.json" {
		t.Errorf("OutPath with MCP_BENCH_OUT = %s", got)
	}
	env["MCP_BENCH_SERVERS"] = "0"
	if _, _, err := ConfigFromEnv(getenv); err == nil {
		t.Error("MCP_BENCH_SERVERS=0 accepted")
	}
	env["MCP_BENCH"] = "huge"
	if _, _, err := ConfigFromEnv(getenv); err == nil {
		t.Error("MCP_BENCH=huge accepted")
	}
}

func TestReportTableAndJSON(t *testing.T) {
	r := &Report{Mode: "smoke"}
	r.Add(Figure{ID: "P1", Name: "N=50 to Ready", Unit: "s", Value: 3, Floor: 2, Goal: "≤ 1.5×"})
	r.Add(Figure{ID: "P3", Name: "API writes idle", Value: 0, Goal: "0"})
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1.50×") || !strings.Contains(b.String(), "3.00 s") {
		t.Errorf("table lacks the ratio or the value:\n%s", b.String())
	}
	if !r.Has("P3", "API writes idle") || r.Has("P3", "other") {
		t.Error("Has does not match on id and name")
	}
	path := filepath.Join(t.TempDir(), "out", "results.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Figures) != 2 || back.Figures[0].Floor != 2 {
		t.Errorf("round trip = %+v", back)
	}
}

func TestSumWrites(t *testing.T) {
	metrics := `# HELP apiserver_request_total x
apiserver_request_total{code="201",resource="secrets",verb="POST"} 3
apiserver_request_total{code="200",resource="mcpservers",verb="PUT"} 2
apiserver_request_total{code="200",resource="leases",verb="PUT"} 40
apiserver_request_total{code="200",resource="secrets",verb="GET"} 99
apiserver_request_total{code="200",resource="events",verb="PATCH"} 1.5e+00
`
	got, err := sumWrites(metrics)
	if err != nil || got != 6.5 {
		t.Errorf("sumWrites = %v, %v; want 6.5 (no leases, no reads)", got, err)
	}
}

func TestPercentile(t *testing.T) {
	var timings []connectTiming
	for i := 1; i <= 100; i++ {
		timings = append(timings, connectTiming{connect: time.Duration(101-i) * time.Millisecond})
	}
	of := func(c connectTiming) time.Duration { return c.connect }
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(timings, of, c.q); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(timings[:1], of, 0.99); got != 100*time.Millisecond {
		t.Errorf("percentile of one sample = %v", got)
	}
	if got := percentile(nil, of, 0.5); got != 0 {
		t.Errorf("percentile of none = %v", got)
	}
}
