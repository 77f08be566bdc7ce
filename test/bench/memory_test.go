package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/test/fixture"
)

// runP4 records the manager's RSS with the largest P1 size's servers and
// each of cfg.Secrets token Secrets (not yet due) spread over them.
func (r *rig) runP4(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	servers := r.listServers(ctx, t, ns)
	created := 0
	for _, want := range r.cfg.Secrets {
		progress("P4: %d token Secrets", want)
		must(t, forEach(ctx, want-created, writers, func(i int) error {
			k := created + i
			srv := &servers[k%len(servers)]
			return r.setup.Create(ctx, fixture.TokenSecret(srv, fixture.Grant(fmt.Sprintf("user-%d", k/len(servers)), time.Now())))
		}))
		created = want
		time.Sleep(settle(r.cfg)) // the manager's informers catch up
		rss, err := vmRSS(r.manager.PID())
		must(t, err)
		r.report.Add(Figure{ID: "P4", Name: fmt.Sprintf("manager RSS, %d servers, %d token Secrets", len(servers), want),
			Unit: "MiB", Value: float64(rss) / (1 << 20), Goal: "≤ 100 MiB"})
	}
}

func (r *rig) listServers(ctx context.Context, t *testing.T, ns string) []mcpv1.MCPServer {
	t.Helper()
	var list mcpv1.MCPServerList
	must(t, r.setup.List(ctx, &list, client.InNamespace(ns)))
	if len(list.Items) == 0 {
		t.Fatalf("no MCPServers in %s", ns)
	}
	return list.Items
}

// settle is how long to let the manager catch up before a reading.
func settle(cfg Config) time.Duration { return min(max(cfg.Idle, 3*time.Second), 15*time.Second) }

// vmRSS is the resident set size of process pid, in bytes.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
