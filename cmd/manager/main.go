// Command manager runs the mcp-operator controllers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/controllers"
	"github.com/mcp-operator/mcp-operator/controllers/mcpserver"
	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/version"
	"github.com/mcp-operator/mcp-operator/webhooks"
)

// leaderElectionNamespace is where the leader election Lease lives: the
// flag's value, else the namespace the manager runs in (POD_NAMESPACE or
// the service account's, in a cluster), else the kubeconfig context's, else
// "default", so that the documented local command works as it is.
// kubeconfig is the --kubeconfig flag's value ("" when unset).
func leaderElectionNamespace(flagValue, kubeconfig string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).Namespace()
	if err != nil {
		return "", fmt.Errorf("finding the leader election namespace (set --leader-election-namespace): %w", err)
	}
	return ns, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitHostPort splits host:port with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, fmt.Errorf("port %q of %q is not a number between 1 and 65535", port, addr)
	}
	return host, p, nil
}

// kubeconfigFlag is the value of the --kubeconfig flag controller-runtime
// registers.
func kubeconfigFlag() string {
	if f := flag.Lookup("kubeconfig"); f != nil {
		return f.Value.String()
	}
	return ""
}

// options are the manager's command-line flags.
type options struct {
	metricsAddr    string
	secureMetrics  bool
	probeAddr      string
	leaderElect    bool
	leaderElectNS  string
	namespaces     string
	resyncInterval time.Duration
	callbackURL    string
	rediscovery    time.Duration
	workers        int
	egress         oauth.EgressPolicy
	zap            zap.Options
	enableWebhooks bool
	webhookAddr    string
	webhookCertDir string
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443",
		"Address the metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, authenticated and authorized through the API server. Turn off only for local runs.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081",
		"Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&o.leaderElect, "leader-elect", true,
		"Elect a leader so exactly one manager reconciles (and refreshes tokens) at a time.")
	flag.StringVar(&o.leaderElectNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease. Default: the namespace the manager runs in, or outside a cluster the kubeconfig context's namespace (\"default\" when it names none).")
	flag.StringVar(&o.namespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch (a namespace-scoped install, config/namespaced); empty: the whole cluster (config/default).")
	flag.DurationVar(&o.resyncInterval, "resync-interval", mcpserver.DefaultResyncInterval,
		"How often a server is probed again when nothing changed (jittered).")
	flag.IntVar(&o.workers, "mcpserver-workers", mcpserver.DefaultWorkers,
		"How many MCPServers are reconciled at once. Reconciles mostly wait on remote servers; a slow one holds only its own worker.")
	flag.DurationVar(&o.rediscovery, "rediscovery-interval", mcpserver.DefaultRediscoveryInterval,
		"How often each OAuth2 server's authorization server is discovered again, to notice moved endpoints (jittered per server).")
	flag.StringVar(&o.callbackURL, "callback-url", "",
		"Public base URL of the callback server, e.g. https://chat.example.com/mcp-auth. Redirect URIs are derived from it; OAuth2 auto-configuration needs it.")
	o.egress.BindFlags(flag.CommandLine)
	flag.BoolVar(&o.enableWebhooks, "enable-webhooks", true,
		"Serve the MCPServer admission webhooks (defaulting and validation) on --webhook-bind-address. Turn off for local runs without certificates.")
	flag.StringVar(&o.webhookAddr, "webhook-bind-address", ":9443",
		"Address the admission webhook server binds to, host:port; an empty host means every interface.")
	flag.StringVar(&o.webhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs",
		"Directory holding the webhook server's tls.crt and tls.key (written by cert-manager in the cluster).")
	o.zap.BindFlags(flag.CommandLine)
	version.BindFlag(flag.CommandLine, "manager")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	ctrl.SetLogger(logsafe.Cap(zap.New(zap.UseFlagOptions(&o.zap))))
	if err := run(ctrl.SetupSignalHandler(), o); err != nil {
		ctrl.Log.Error(err, "Manager exited")
		os.Exit(1)
	}
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(mcpv1.AddToScheme(scheme))
	return scheme
}

func run(ctx context.Context, o options) error {
	ctrlmetrics.Registry.MustRegister(version.Collector())
	// internal/oauth registers its collectors on metrics.Registry at init;
	// registering them again here panicked at start.

	metricsOpts := metricsserver.Options{
		BindAddress:   o.metricsAddr,
		SecureServing: o.secureMetrics,
		// HTTP/2 is off: it is exposed to the HTTP/2 rapid-reset class of attacks.
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if o.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	watchNamespaces := splitList(o.namespaces)
	webhookHost, webhookPort, err := splitHostPort(o.webhookAddr)
	if err != nil {
		return fmt.Errorf("--webhook-bind-address: %w", err)
	}

	restCfg := ctrl.GetConfigOrDie()
	leaseNamespace, err := leaderElectionNamespace(o.leaderElectNS, kubeconfigFlag())
	if o.leaderElect && err != nil {
		return err
	}
	// Each token refresh costs a few API calls; client-go's default of 20 QPS
	// would make catching up after an outage take minutes for many users.
	restCfg.QPS, restCfg.Burst = 100, 200
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "mcp-operator.mcpoperator.io",
		LeaderElectionNamespace: leaseNamespace,
		Client:                  controllers.ClientOptions(),
		Cache:                   controllers.CacheOptions(watchNamespaces...),
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    webhookHost,
			Port:    webhookPort,
			CertDir: o.webhookCertDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
		}),
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	if err := controllers.SetupWithManager(ctx, mgr, controllers.Config{
		HTTPClient:          oauth.NewHTTPClient(o.egress),
		ResyncInterval:      o.resyncInterval,
		CallbackURL:         o.callbackURL,
		RediscoveryInterval: o.rediscovery,
		MCPServerWorkers:    o.workers,
		WatchNamespaces:     watchNamespaces,
	}); err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}

	if o.enableWebhooks {
		if err := webhooks.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up webhooks: %w", err)
		}
		if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
			return fmt.Errorf("adding webhook readiness check: %w", err)
		}
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding readiness check: %w", err)
	}

	ctrl.Log.Info("Starting manager", "version", version.Get(), "leaderElection", o.leaderElect, "callbackURL", o.callbackURL, "watchNamespaces", watchNamespaces)
	return mgr.Start(ctx)
}
