package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
)

const (
	// managerQPS and managerBurst are the manager's client rate limits
	// (cmd/manager); every floor's bare client gets the same.
	managerQPS, managerBurst = 100, 200
	// writers is how many goroutines issue a floor's (and the benchmark's
	// own) API writes: the MCPServer controller's workers.
	writers = 32
	// floorNamespace holds the floors' objects; the manager does not watch it.
	floorNamespace = "floor"
)

// rig is the running system under measurement.
type rig struct {
	cfg Config
	dir string
	env *envtest.Environment
	// setup writes fixtures quickly; measured has the manager's rate limits.
	setup, measured client.Client
	restCfg         *rest.Config
	fake            *fakeauth.Server
	bins            harness.Binaries
	kubeconfig      string
	managerOpts     harness.ManagerOptions
	manager         *harness.Process
	report          *Report
}

// TestSystem runs P1–P6 (see doc.go); MCP_BENCH selects the sizes.
func TestSystem(t *testing.T) {
	cfg, ok, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("MCP_BENCH is not set (make bench, make bench-smoke)")
	}
	// controller-runtime's clients log (rarely) through its root logger.
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := startRig(ctx, t, cfg)

	largest := r.runP1(ctx, t)
	r.runP3(ctx, t)
	r.runP2Restart(ctx, t)
	r.runP4(ctx, t, largest)
	r.runP5(ctx, t, largest)
	r.runP6(ctx, t, largest)

	r.finish(t)
}

// startRig starts the control plane, the fake authorization server with
// cfg.Latency and the manager, watching only the namespaces P1 creates.
func startRig(ctx context.Context, t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{cfg: cfg, dir: t.TempDir(), report: &Report{Mode: cfg.Mode, Started: time.Now().UTC(),
		Latency: cfg.Latency.String(), Machine: machine()}}
	var err error
	progress("building the manager, the callback server and fake-mcp-server")
	r.bins, err = harness.BuildBinaries(envtestutil.RepoRoot(), filepath.Join(r.dir, "bin"))
	must(t, err)

	progress("starting kube-apiserver and etcd")
	env, cfgRest, err := envtestutil.Start()
	must(t, err)
	r.env, r.restCfg = env, cfgRest
	t.Cleanup(func() { _ = env.Stop() })
	r.kubeconfig = r.writeAdminKubeconfig(t)
	r.setup = newClient(t, cfgRest, 1000, 2000)
	r.measured = newClient(t, cfgRest, managerQPS, managerBurst)
	for _, ns := range append(p1Namespaces(cfg), floorNamespace) {
		must(t, r.setup.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}

	r.fake, err = fakeauth.Start(fakeauth.Options{SeparateOrigins: true, ISSParameter: true, Latency: cfg.Latency},
		"127.0.0.1:0", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(r.fake.Close)

	probe, err := harness.FreeAddr()
	must(t, err)
	callbackAddr, err := harness.FreeAddr()
	must(t, err)
	r.managerOpts = harness.ManagerOptions{Bin: r.bins.Manager, LogDir: r.logDir(), Kubeconfig: r.kubeconfig,
		CallbackURL: "http://" + callbackAddr, ProbeAddr: probe,
		ExtraArgs: []string{"--watch-namespaces=" + strings.Join(p1Namespaces(cfg), ",")}}
	r.startManager(ctx, t)
	t.Cleanup(func() { _ = r.manager.Stop(10 * time.Second) })
	return r
}

func (r *rig) startManager(ctx context.Context, t *testing.T) {
	t.Helper()
	var err error
	r.manager, err = harness.StartManager(ctx, r.managerOpts)
	must(t, err)
}

// finish prints the table, writes the JSON and, in smoke mode, asserts that
// every figure was produced.
func (r *rig) finish(t *testing.T) {
	t.Helper()
	fmt.Println()
	must(t, r.report.WriteTable(os.Stdout))
	out := r.cfg.OutPath(envtestutil.RepoRoot())
	must(t, r.report.WriteJSON(out))
	fmt.Printf("\nwritten to %s; process logs in %s\n", out, r.logDir())
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5", "P6"} {
		if !r.report.HasID(id) {
			t.Errorf("figure %s was not produced", id)
		}
	}
	if t.Failed() {
		r.keepLogs(t)
	}
}

func (r *rig) logDir() string { return filepath.Join(r.dir, "logs") }

// keepLogs copies the process logs out of the test's temporary directory.
func (r *rig) keepLogs(t *testing.T) {
	dst := filepath.Join(envtestutil.RepoRoot(), "bench", "logs")
	_ = os.MkdirAll(dst, 0o755)
	entries, _ := os.ReadDir(r.logDir())
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(r.logDir(), e.Name())); err == nil {
			_ = os.WriteFile(filepath.Join(dst, filepath.Base(e.Name())), data, 0o600) //nolint:gosec // G703: names of our own temporary log directory
		}
	}
	t.Logf("process logs copied to %s", dst)
}

func (r *rig) writeAdminKubeconfig(t *testing.T) string {
	t.Helper()
	user, err := r.env.ControlPlane.AddUser(envtest.User{Name: "bench-admin", Groups: []string{"system:masters"}}, nil)
	must(t, err)
	data, err := user.KubeConfig()
	must(t, err)
	path := filepath.Join(r.dir, "kubeconfig")
	must(t, os.WriteFile(path, data, 0o600))
	return path
}

func newClient(t *testing.T, cfg *rest.Config, qps float32, burst int) client.Client {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = qps, burst
	cl, err := client.New(c, client.Options{Scheme: envtestutil.NewScheme()})
	must(t, err)
	return cl
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// progress prints a line at once (go test -v streams stdout).
func progress(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
