// Command callback is the callback server: a sidecar beside the chat app
// that connects each user's account to the OAuth2 MCPServers of one
// namespace and keeps their tokens in per-user Secrets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
	"github.com/mcp-operator/mcp-operator/internal/callback"
	"github.com/mcp-operator/mcp-operator/internal/logsafe"
	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/version"
)

// options are the callback server's command-line flags.
type options struct {
	namespace     string
	listen        string
	tokenListen   string
	opsListen     string
	publicURL     string
	userHeader    string
	ticketKeyFile string
	cookieKeyFile string
	returnOrigins string
	egress        oauth.EgressPolicy
	zap           zap.Options
	// --kubeconfig is registered by controller-runtime's config package.
}

func parseFlags() options {
	o := bindFlags(flag.CommandLine)
	flag.Parse()
	return *o
}

// bindFlags registers the flags on fs (the manifest test parses
// config/callback's args with them).
func bindFlags(fs *flag.FlagSet) *options {
	o := &options{}
	fs.StringVar(&o.namespace, "namespace", "", "The one namespace whose MCPServers this server connects users to (required).")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8090", "Address to listen on. Loopback by default: put the authenticating proxy in front.")
	fs.StringVar(&o.tokenListen, "token-listen", "",
		"Loopback address of the token endpoint, e.g. 127.0.0.1:8091 (off when empty): the chat container gets a user's access token there with a bearer ticket, needing no Kubernetes credentials. Needs --ticket-key-file; never route it through the proxy.")
	fs.StringVar(&o.opsListen, "ops-listen", "127.0.0.1:8092",
		"Address of /healthz, /readyz and /metrics, a listener apart from --listen so the proxy never publishes them (off when empty). In a pod, use :8092 so the kubelet and Prometheus reach it.")
	fs.StringVar(&o.publicURL, "public-url", "",
		"External base URL, e.g. https://chat.example.com/mcp-auth (required). Must equal the manager's --callback-url so redirect URIs match.")
	fs.StringVar(&o.userHeader, "user-header", "",
		"Trusted-header mode: read the user ID from this header, e.g. X-Forwarded-User, which the proxy must set on every route, the callback included. It wins over a ticket; a ticket naming someone else is refused. Only safe when nothing but the authenticating proxy can reach --listen.")
	fs.StringVar(&o.ticketKeyFile, "ticket-key-file", "",
		"Ticket mode: file with the HS256 key (at least 32 random bytes) the chat backend signs connect tickets with; comma-separated files during a rotation, each accepted. A ticket in a connect link is accepted once (remembered in the ConfigMaps "+callback.UsedOnceConfigMapPrefix+"*).")
	fs.StringVar(&o.cookieKeyFile, "cookie-key-file", "",
		"File of at least 32 random bytes (e.g. head -c 32 /dev/urandom), the same for every replica; the flow cookie's key is derived from it (required). During a rotation: the new file, a comma, the old one; the first seals, both open.")
	fs.StringVar(&o.returnOrigins, "allowed-return-origins", "",
		"Comma-separated origins (scheme://host[:port]) that connect's return_to may send the user back to.")
	o.egress.BindFlags(fs)
	o.zap.BindFlags(fs)
	version.BindFlag(fs, "callback")
	return o
}

func main() {
	o := parseFlags()
	ctrl.SetLogger(logsafe.Cap(zap.New(zap.UseFlagOptions(&o.zap))))
	if err := run(ctrl.SetupSignalHandler(), o); err != nil {
		ctrl.Log.Error(err, "Callback server exited")
		os.Exit(1)
	}
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(mcpv1.AddToScheme(scheme))
	return scheme
}

// readKeys reads a comma-separated list of key files, the current key
// first (a rotation lists the new key, then the old one); empty means "not
// configured".
func readKeys(flagName, paths string) ([][]byte, error) {
	var keys [][]byte
	for _, path := range splitList(paths) {
		key, err := os.ReadFile(path) //nolint:gosec // G304: the path is the operator's own --*-key-file flag
		if err != nil {
			return nil, fmt.Errorf("reading --%s: %w", flagName, err)
		}
		if len(key) < callback.MinKeyBytes {
			return nil, fmt.Errorf("--%s %s holds %d bytes; at least %d random bytes are required (head -c 32 /dev/urandom)", flagName, path, len(key), callback.MinKeyBytes)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// check refuses flag combinations that cannot work, before anything is read.
func (o options) check() error {
	if o.namespace == "" || o.publicURL == "" || o.cookieKeyFile == "" {
		return errors.New("--namespace, --public-url and --cookie-key-file are required")
	}
	if o.tokenListen != "" {
		if err := callback.CheckLoopback(o.tokenListen); err != nil {
			return fmt.Errorf("--token-listen: %w", err)
		}
		if o.ticketKeyFile == "" {
			return errors.New("--token-listen needs --ticket-key-file: the token endpoint knows the user only from a ticket")
		}
	}
	return nil
}

func run(ctx context.Context, o options) error {
	if err := o.check(); err != nil {
		return err
	}
	cookieKeys, err := readKeys("cookie-key-file", o.cookieKeyFile)
	if err != nil {
		return err
	}
	ticketKeys, err := readKeys("ticket-key-file", o.ticketKeyFile)
	if err != nil {
		return err
	}
	kube, err := newKubeClient(ctx, o.namespace)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(oauth.Collectors()...)
	registry.MustRegister(callback.Collectors()...)
	registry.MustRegister(version.Collector())

	handler, err := callback.New(callback.Options{
		Namespace:            o.namespace,
		PublicURL:            o.publicURL,
		UserHeader:           o.userHeader,
		TicketKeys:           ticketKeys,
		CookieKeys:           cookieKeys,
		AllowedReturnOrigins: splitList(o.returnOrigins),
		HTTPClient:           oauth.NewHTTPClient(o.egress),
		Client:               client.NewNamespacedClient(kube, o.namespace),
		Log:                  ctrl.Log.WithName("callback"),
	})
	if err != nil {
		return fmt.Errorf("configuring the callback server: %w", err)
	}
	servers := []namedServer{{"callback server", callback.NewHTTPServer(o.listen, handler)}}
	if o.tokenListen != "" {
		tokens, err := handler.TokenHandler()
		if err != nil {
			return fmt.Errorf("configuring the token endpoint: %w", err)
		}
		servers = append(servers, namedServer{"token endpoint", callback.NewTokenHTTPServer(o.tokenListen, tokens)})
	}
	if o.opsListen != "" {
		servers = append(servers, namedServer{"probes and metrics", callback.NewOpsHTTPServer(o.opsListen, callback.OpsHandler(registry))})
	}
	return serve(ctx, o, servers...)
}

// newKubeClient is the callback server's Kubernetes client. MCPServers are
// read from an informer of the served namespace, started and synced here:
// every connect reads its MCPServer, and under many sign-ins at once those
// reads were a third of the server's API requests. Secrets and ConfigMaps
// are always read from the API server (the Role grants no list or watch on
// them).
func newKubeClient(ctx context.Context, namespace string) (client.Client, error) {
	cfg := ctrl.GetConfigOrDie()
	scheme := newScheme()
	servers, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, fmt.Errorf("creating the MCPServer cache: %w", err)
	}
	if _, err := servers.GetInformer(ctx, &mcpv1.MCPServer{}); err != nil {
		return nil, fmt.Errorf("watching MCPServers in %s: %w", namespace, err)
	}
	go func() {
		if err := servers.Start(ctx); err != nil {
			ctrl.Log.Error(err, "The MCPServer cache stopped")
		}
	}()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if !servers.WaitForCacheSync(syncCtx) {
		return nil, fmt.Errorf("the MCPServers of %s could not be listed and watched within a minute; check the callback Role (get, list, watch on mcpservers)", namespace)
	}
	kube, err := client.New(cfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{
		Reader: servers, DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}},
	}})
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return kube, nil
}

// namedServer is one listener of the callback server, named in the log.
type namedServer struct {
	name string
	srv  *http.Server
}

// serve runs the servers until ctx ends or one fails, then drains requests
// for a few seconds.
func serve(ctx context.Context, o options, servers ...namedServer) error {
	listeners := make([]net.Listener, 0, len(servers))
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()
	for _, s := range servers {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.srv.Addr)
		if err != nil {
			return fmt.Errorf("listening on %s for the %s: %w", s.srv.Addr, s.name, err)
		}
		listeners = append(listeners, ln)
	}
	log := ctrl.Log.WithValues("namespace", o.namespace)
	log.Info("Starting callback server", "version", version.Get(), "publicURL", o.publicURL,
		"trustedHeader", o.userHeader != "", "tickets", o.ticketKeyFile != "")
	errc := make(chan error, len(servers))
	for i, s := range servers {
		log.Info("Listening", "for", s.name, "address", listeners[i].Addr().String())
		go func() { errc <- s.srv.Serve(listeners[i]) }()
	}
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		err = errors.Join(err, s.srv.Shutdown(shutdownCtx))
	}
	return err
}
