package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/fixture"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

// p1Namespaces hold P1's servers, one namespace per size; the manager
// watches exactly these.
func p1Namespaces(cfg Config) []string {
	var ns []string
	for i := range cfg.Sizes() {
		ns = append(ns, fmt.Sprintf("p1-%d", i))
	}
	return ns
}

// runP1 brings N/10, N/3 and N auto-configured OAuth2 MCPServers to Ready,
// each against its floor, then records P2's discovery and registration
// counts. It returns the namespace of the largest size.
func (r *rig) runP1(ctx context.Context, t *testing.T) string {
	t.Helper()
	r.fake.ResetCounters()
	total := 0
	nss := p1Namespaces(r.cfg)
	for i, n := range r.cfg.Sizes() {
		took, err := r.serversToReady(ctx, nss[i], n)
		must(t, err)
		floor, err := r.floorServers(ctx, fmt.Sprintf("f%d-", i), n)
		must(t, err)
		r.report.Add(Figure{ID: "P1", Name: fmt.Sprintf("N=%d OAuth2 servers to Ready", n), Unit: "s",
			Value: took.Seconds(), Floor: floor.Seconds(), Goal: "≤ 1.5×"})
		total += n
	}
	c := r.fake.Counters()
	r.report.Add(Figure{ID: "P2", Name: "AS metadata fetches (1 issuer)", Value: float64(c.ASMetadata), Goal: "1 per TTL"})
	r.report.Add(Figure{ID: "P2", Name: fmt.Sprintf("registrations for %d servers", total), Value: float64(c.Register),
		Goal: fmt.Sprintf("= %d", total)})
	return nss[len(nss)-1]
}

// serversToReady creates n auto-configured OAuth2 MCPServers in ns with the
// manager's rate limits and waits until all are Ready.
func (r *rig) serversToReady(ctx context.Context, ns string, n int) (time.Duration, error) {
	start := time.Now()
	err := forEach(ctx, n, writers, func(i int) error {
		return r.measured.Create(ctx, fixture.MCPServer(ns, serverName(i), r.fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{})))
	})
	if err != nil {
		return 0, err
	}
	label := fmt.Sprintf("P1 N=%d", n)
	err = waitFor(ctx, label, n, 30*time.Minute, func() (int, error) { return r.countReady(ctx, ns) })
	return time.Since(start), err
}

// floorServers does the API writes the manager does for n servers (create,
// client Secret, status) with a bare client and the manager's rate limits.
func (r *rig) floorServers(ctx context.Context, prefix string, n int) (time.Duration, error) {
	o := fixture.FakeOAuth2(r.fake, fakeauth.Client{ID: "floor-client", Secret: "floor-secret", AuthMethod: fakeauth.AuthBasic, Dynamic: true})
	start := time.Now()
	err := forEach(ctx, n, writers, func(i int) error {
		srv := fixture.MCPServer(floorNamespace, prefix+serverName(i), r.fake.MCPURL(), fixture.WithOAuth2(mcpv1.OAuth2Auth{}))
		oi := o
		oi.RedirectURI = mcpauth.RedirectURI(r.managerOpts.CallbackURL, srv.Namespace, srv.Name)
		_, err := fixture.CreateOAuth2Server(ctx, r.measured, srv, oi)
		return err
	})
	return time.Since(start), err
}

func (r *rig) countReady(ctx context.Context, ns string) (int, error) {
	var list mcpv1.MCPServerList
	if err := r.setup.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	ready := 0
	for i := range list.Items {
		if harness.IsReady(&list.Items[i]) {
			ready++
		}
	}
	return ready, nil
}

// runP2Restart restarts the manager and counts registrations until it has
// re-reconciled every server (all still Ready after an idle window): 0 when
// it reuses the clients it stored.
func (r *rig) runP2Restart(ctx context.Context, t *testing.T) {
	t.Helper()
	progress("P2: restarting the manager")
	must(t, r.manager.Stop(10*time.Second))
	r.fake.ResetCounters()
	r.startManager(ctx, t)
	time.Sleep(max(r.cfg.Idle, 5*time.Second)) // the resync of every server after the caches sync
	r.report.Add(Figure{ID: "P2", Name: "registrations after a manager restart", Value: float64(r.fake.Counters().Register), Goal: "0"})
}

func serverName(i int) string { return fmt.Sprintf("srv-%05d", i) }

// forEach runs f(0..n-1) on workers goroutines and returns the first error.
func forEach(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// waitFor polls count until it reaches want, printing progress every 5 s.
func waitFor(ctx context.Context, label string, want int, timeout time.Duration, count func() (int, error)) error {
	start := time.Now()
	lastPrint := start
	for {
		got, err := count()
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		if got >= want {
			progress("%s: %d/%d, %s", label, got, want, time.Since(start).Round(100*time.Millisecond))
			return nil
		}
		if time.Since(lastPrint) >= 5*time.Second {
			progress("%s: %d/%d, %s", label, got, want, time.Since(start).Round(time.Second))
			lastPrint = time.Now()
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("%s: %d/%d after %s", label, got, want, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
