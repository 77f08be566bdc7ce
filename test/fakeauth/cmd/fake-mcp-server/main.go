// Command fake-mcp-server runs the fakeauth authorization server and MCP
// server as a process, in realistic mode (separate origins, DCR, refresh
// token rotation with reuse detection, RFC 9207 iss), for demos and e2e tests.
//
//	go run ./test/fakeauth/cmd/fake-mcp-server --access-token-ttl=30s
//
// It listens on 127.0.0.1 only and never prints tokens.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

func main() {
	var (
		asAddr       = flag.String("as-addr", "127.0.0.1:9400", "authorization server address (127.0.0.1:port)")
		mcpAddr      = flag.String("mcp-addr", "127.0.0.1:9401", "MCP server address (127.0.0.1:port)")
		issuerPath   = flag.String("issuer-path", "", `issuer path, e.g. "/tenant1"`)
		mcpPath      = flag.String("mcp-path", "/mcp", "MCP endpoint path")
		accessTTL    = flag.Duration("access-token-ttl", 0, "access token lifetime (default 1h)")
		refreshTTL   = flag.Duration("refresh-token-ttl", 0, "refresh token lifetime (0: no expiry)")
		scopes       = flag.String("scopes", "mcp:read,mcp:tools", "comma-separated resource scopes")
		cimd         = flag.Bool("cimd", false, "advertise and accept Client ID Metadata Documents")
		iss          = flag.Bool("iss", true, "advertise and send the RFC 9207 iss parameter")
		offline      = flag.Bool("offline-access", false, "issue refresh tokens only for the offline_access scope")
		noDCR        = flag.Bool("no-dcr", false, "disable dynamic client registration")
		httpRedirect = flag.Bool("allow-http-redirect-uris", false, "accept plain-http non-loopback redirect URIs")
		staticID     = flag.String("static-client-id", "", "pre-register a client with this ID (client_secret_basic)")
		staticSecret = flag.String("static-client-secret", "", "secret of --static-client-id")
		staticRedir  = flag.String("static-client-redirect-uri", "", "redirect URI of --static-client-id")
		latency      = flag.Duration("latency", 0, "delay added to every request, as a provider that is not on loopback")
	)
	flag.Parse()

	s, err := fakeauth.Start(fakeauth.Options{
		SeparateOrigins:       true,
		IssuerPath:            *issuerPath,
		MCPPath:               *mcpPath,
		AccessTokenTTL:        *accessTTL,
		RefreshTokenTTL:       *refreshTTL,
		Scopes:                splitList(*scopes),
		CIMD:                  *cimd,
		ISSParameter:          *iss,
		OfflineAccess:         *offline,
		DisableDCR:            *noDCR,
		AllowHTTPRedirectURIs: *httpRedirect,
		Latency:               *latency,
	}, *asAddr, *mcpAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-mcp-server:", err)
		os.Exit(1)
	}
	defer s.Close()
	if *staticID != "" {
		if *staticSecret == "" || *staticRedir == "" {
			fmt.Fprintln(os.Stderr, "fake-mcp-server: --static-client-id needs --static-client-secret and --static-client-redirect-uri")
			os.Exit(2)
		}
		s.AddClient(fakeauth.Client{ID: *staticID, Secret: *staticSecret, RedirectURIs: []string{*staticRedir}})
	}

	e := s.Endpoints()
	fmt.Println("fake-mcp-server ready")
	for _, kv := range [][2]string{
		{"mcp", e.MCP},
		{"resource_metadata", e.ResourceMetadata},
		{"issuer", e.Issuer},
		{"authorization", e.Authorization},
		{"token", e.Token},
		{"registration", e.Registration},
		{"revocation", e.Revocation},
	} {
		if kv[1] != "" {
			fmt.Printf("  %-18s %s\n", kv[0]+":", kv[1])
		}
	}
	fmt.Printf("  %-18s %s\n", "access_token_ttl:", s.Options().AccessTokenTTL)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

func splitList(v string) []string {
	out := []string{}
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
