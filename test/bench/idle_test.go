package bench

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// writeVerbs are the verbs of apiserver_request_total that change state.
var writeVerbs = []string{`verb="POST"`, `verb="PUT"`, `verb="PATCH"`, `verb="DELETE"`}

// runP3 counts the API writes made during cfg.Idle after convergence.
func (r *rig) runP3(ctx context.Context, t *testing.T) {
	t.Helper()
	progress("P3: %s idle", r.cfg.Idle)
	before, err := r.apiWrites(ctx)
	must(t, err)
	time.Sleep(r.cfg.Idle)
	after, err := r.apiWrites(ctx)
	must(t, err)
	r.report.Add(Figure{ID: "P3", Name: fmt.Sprintf("API writes in %s idle", r.cfg.Idle), Value: after - before, Goal: "0"})
}

// apiWrites is kube-apiserver's count of write requests so far, from its
// apiserver_request_total metric, leaving out leases: kube-apiserver renews
// its own identity lease every 10 s, and the manager runs without leader
// election here.
func (r *rig) apiWrites(ctx context.Context) (float64, error) {
	cs, err := kubernetes.NewForConfig(r.restCfg)
	if err != nil {
		return 0, err
	}
	body, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading kube-apiserver's metrics: %w", err)
	}
	return sumWrites(string(body))
}

// sumWrites adds up the write samples of apiserver_request_total in a
// Prometheus text exposition.
func sumWrites(metrics string) (float64, error) {
	total := 0.0
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || strings.Contains(line, `resource="leases"`) || !isWrite(line) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", line, err)
		}
		total += v
	}
	return total, sc.Err()
}

func isWrite(line string) bool {
	for _, v := range writeVerbs {
		if strings.Contains(line, v) {
			return true
		}
	}
	return false
}
