package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDiscoverPRMLocation(t *testing.T) {
	tests := []struct {
		name      string
		serverURL string // path on the fake
		setup     func(f *fake)
		wantPRM   string // path where PRM must have been found
		notHit    []string
		wantRes   string // path of expected resource (appended to base); "" = base+serverURL
		wantScope []string
	}{
		{
			name:      "WWW-Authenticate resource_metadata wins",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", `Bearer realm="x", resource_metadata="`+f.URL()+`/custom/prm", scope="files:read files:write"`)
				f.json("/custom/prm", prmDoc(f.URL()+"/mcp", f.URL()))
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc("https://wrong.example/mcp", f.URL()))
			},
			wantPRM:   "/custom/prm",
			notHit:    []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"},
			wantScope: []string{"files:read", "files:write"},
		},
		{
			name:      "path PRM, root never fetched",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", `Bearer realm="x"`)
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
				f.json("/.well-known/oauth-protected-resource", prmDoc(f.URL()+"/mcp", "https://wrong.example"))
			},
			wantPRM: "/.well-known/oauth-protected-resource/mcp",
			notHit:  []string{"/.well-known/oauth-protected-resource"},
		},
		{
			name:      "root PRM fallback",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", "")
				f.json("/.well-known/oauth-protected-resource", prmDoc(f.URL()+"/mcp", f.URL()))
			},
			wantPRM: "/.well-known/oauth-protected-resource",
		},
		{
			name:      "root PRM may name the origin as resource (RFC 9728 3.3)",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", "")
				f.json("/.well-known/oauth-protected-resource", prmDoc(f.URL(), f.URL()))
			},
			wantPRM: "/.well-known/oauth-protected-resource",
			wantRes: "-",
		},
		{
			name:      "Sentry: path and root disagree, path value used exactly",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", "")
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
				f.json("/.well-known/oauth-protected-resource", prmDoc(f.URL()+"/", f.URL()))
			},
			wantPRM: "/.well-known/oauth-protected-resource/mcp",
			notHit:  []string{"/.well-known/oauth-protected-resource"},
		},
		{
			name:      "GitHub: configured with trailing slash, PRM without; PRM value used",
			serverURL: "/mcp/",
			setup: func(f *fake) {
				f.mcp401("/mcp/", `Bearer error="invalid_request", error_description="No access token was provided in this request", resource_metadata="`+f.URL()+`/.well-known/oauth-protected-resource/mcp/"`)
				f.json("/.well-known/oauth-protected-resource/mcp/", prmDoc(f.URL()+"/mcp", f.URL()))
			},
			wantPRM: "/.well-known/oauth-protected-resource/mcp/",
			wantRes: "/mcp",
		},
		{
			name:      "HTML catch-all at the path URL counts as absent",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", "")
				f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte("<html>app</html>"))
				})
				f.json("/.well-known/oauth-protected-resource", prmDoc(f.URL()+"/mcp", f.URL()))
			},
			wantPRM: "/.well-known/oauth-protected-resource",
		},
		{
			name:      "lenient Content-Type, duplicated media type",
			serverURL: "/mcp",
			setup: func(f *fake) {
				f.mcp401("/mcp", "")
				f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json, application/json")
					_, _ = w.Write([]byte(`{"resource":"` + f.URL() + `/mcp","authorization_servers":["` + f.URL() + `"],"scopes_supported":["read"]}`))
				})
			},
			wantPRM: "/.well-known/oauth-protected-resource/mcp",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			tc.setup(f)
			f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
			d, err := Discover(context.Background(), testClient(), f.URL()+tc.serverURL)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if d.ResourceMetadataURL != f.URL()+tc.wantPRM {
				t.Errorf("ResourceMetadataURL = %q, want %q", d.ResourceMetadataURL, f.URL()+tc.wantPRM)
			}
			wantRes := f.URL() + tc.serverURL
			switch tc.wantRes {
			case "":
			case "-":
				wantRes = f.URL()
			default:
				wantRes = f.URL() + tc.wantRes
			}
			if d.Resource != wantRes {
				t.Errorf("Resource = %q, want %q", d.Resource, wantRes)
			}
			for _, p := range tc.notHit {
				if f.hit(p) {
					t.Errorf("%s was fetched", p)
				}
			}
			if strings.Join(d.ChallengeScopes, " ") != strings.Join(tc.wantScope, " ") {
				t.Errorf("ChallengeScopes = %v, want %v", d.ChallengeScopes, tc.wantScope)
			}
			if d.Legacy || d.AuthServer.Issuer != f.URL() {
				t.Errorf("Legacy=%v issuer=%q", d.Legacy, d.AuthServer.Issuer)
			}
		})
	}
}

func TestDiscoverProbeAndHeaders(t *testing.T) {
	f := newFake(t)
	f.mcp401("/mcp", "")
	f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
	f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
	if _, err := Discover(context.Background(), testClient(), f.URL()+"/mcp"); err != nil {
		t.Fatal(err)
	}
	probe := f.requestsTo("/mcp")
	if len(probe) != 1 || probe[0].Method != http.MethodPost {
		t.Fatalf("probe: %d requests", len(probe))
	}
	mustContain(t, probe[0].Header.Get("Accept"), "application/json", "text/event-stream")
	if probe[0].Header.Get("Authorization") != "" {
		t.Error("probe must be unauthenticated")
	}
	if got := probe[0].Header.Get("MCP-Protocol-Version"); got != ModernProtocolVersion {
		t.Errorf("probe MCP-Protocol-Version = %q, want %q", got, ModernProtocolVersion)
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"} {
		r := f.requestsTo(p)
		if len(r) != 1 || r[0].Method != http.MethodGet || r[0].Header.Get("MCP-Protocol-Version") != ProtocolVersion {
			t.Errorf("%s: want one GET with MCP-Protocol-Version", p)
		}
	}
}

func TestDiscoverPRMErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fake)
		reason    Reason
		transient bool
		notHit    []string
		msg       []string
	}{
		{
			name: "empty authorization_servers",
			setup: func(f *fake) {
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp"))
			},
			reason: ReasonDiscoveryFailed, msg: []string{"authorization_servers"},
		},
		{
			name: "resource mismatch",
			setup: func(f *fake) {
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc("https://other.example/mcp", f.URL()))
			},
			reason: ReasonResourceMismatch, msg: []string{"https://other.example/mcp", "spec.url"},
			notHit: []string{"/.well-known/oauth-protected-resource"},
		},
		{
			name: "path PRM with different path is a mismatch",
			setup: func(f *fake) {
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/other", f.URL()))
			},
			reason: ReasonResourceMismatch,
		},
		{
			name: "malformed JSON",
			setup: func(f *fake) {
				f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"resource": "x", "authorization_servers": [`))
				})
			},
			reason: ReasonDiscoveryFailed, msg: []string{"not a valid JSON"},
			notHit: []string{"/.well-known/oauth-protected-resource"},
		},
		{
			name: "5xx is transient and does not fall back",
			setup: func(f *fake) {
				f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
					http.Error(w, "upstream exploded", http.StatusBadGateway)
				})
			},
			reason: ReasonDiscoveryFailed, transient: true, msg: []string{"502"},
			notHit: []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server"},
		},
		{
			name: "429 is transient",
			setup: func(f *fake) {
				f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusTooManyRequests)
				})
			},
			reason: ReasonDiscoveryFailed, transient: true,
		},
		{
			name: "resource_metadata from header that 404s does not fall back",
			setup: func(f *fake) {
				f.mcp401("/mcp", `Bearer resource_metadata="`+f.URL()+`/nope"`)
				f.json("/.well-known/oauth-protected-resource/mcp", prmDoc(f.URL()+"/mcp", f.URL()))
			},
			reason: ReasonDiscoveryFailed, msg: []string{"/nope"},
			notHit: []string{"/.well-known/oauth-protected-resource/mcp"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.mcp401("/mcp", "")
			tc.setup(f)
			f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
			_, err := Discover(context.Background(), testClient(), f.URL()+"/mcp")
			e := reasonError(t, err, tc.reason)
			if e.Transient != tc.transient || IsTransient(err) != tc.transient {
				t.Errorf("Transient = %v, want %v", e.Transient, tc.transient)
			}
			mustContain(t, err.Error(), tc.msg...)
			for _, p := range tc.notHit {
				if f.hit(p) {
					t.Errorf("%s was fetched", p)
				}
			}
		})
	}
}

func TestDiscoverAuthServerOrder(t *testing.T) {
	paths := []string{
		"/.well-known/oauth-authorization-server/t1",
		"/.well-known/openid-configuration/t1",
		"/t1/.well-known/openid-configuration",
	}
	for i, serveAt := range paths {
		t.Run(serveAt, func(t *testing.T) {
			f := newFake(t)
			issuer := f.URL() + "/t1"
			f.json(serveAt, asDoc(issuer, f.URL()))
			md, err := DiscoverAuthServer(context.Background(), testClient(), issuer)
			if err != nil {
				t.Fatal(err)
			}
			if md.MetadataURL != f.URL()+serveAt {
				t.Errorf("MetadataURL = %q", md.MetadataURL)
			}
			for j, p := range paths {
				if got, want := f.hit(p), j <= i; got != want {
					t.Errorf("%s hit=%v, want %v", p, got, want)
				}
			}
			if f.hit("/.well-known/oauth-authorization-server") {
				t.Error("root metadata fetched for a path issuer")
			}
		})
	}
}

func TestDiscoverAuthServerVariants(t *testing.T) {
	tests := []struct {
		name   string
		issuer func(base string) string
		setup  func(f *fake, issuer string)
		reason Reason // "" = success
		check  func(t *testing.T, f *fake, md *AuthServerMetadata)
	}{
		{
			name:   "no path: RFC 8414 first",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL()))
				f.json("/.well-known/openid-configuration", asDoc("https://wrong.example", f.URL()))
			},
			check: func(t *testing.T, f *fake, _ *AuthServerMetadata) {
				if f.hit("/.well-known/openid-configuration") {
					t.Error("OIDC fetched after RFC 8414 answered")
				}
			},
		},
		{
			name:   "OIDC only (Google style)",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/openid-configuration", asDoc(iss, f.URL(), func(m map[string]any) {
					delete(m, "registration_endpoint")
					m["scopes_supported"] = []string{"openid", "email"}
				}))
			},
			check: func(t *testing.T, f *fake, md *AuthServerMetadata) {
				if md.RegistrationEndpoint != "" || md.MetadataURL != f.URL()+"/.well-known/openid-configuration" {
					t.Errorf("unexpected %+v", md)
				}
			},
		},
		{
			name:   "GitHub: issuer with path, RFC 8414 path insertion",
			issuer: func(b string) string { return b + "/login/oauth" },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server/login/oauth", asDoc(iss, f.URL(), func(m map[string]any) {
					delete(m, "registration_endpoint")
				}))
			},
		},
		{
			name:   "issuer mismatch",
			issuer: func(b string) string { return b },
			setup: func(f *fake, _ string) {
				f.json("/.well-known/oauth-authorization-server", asDoc("https://attacker.example", f.URL()))
			},
			reason: ReasonIssuerMismatch,
		},
		{
			name:   "issuer differing by trailing slash is a mismatch",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss+"/", f.URL()))
			},
			reason: ReasonIssuerMismatch,
		},
		{
			name:   "mismatching RFC 8414 doc skipped, matching OIDC doc used",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc("https://attacker.example", f.URL()))
				f.json("/.well-known/openid-configuration", asDoc(iss, f.URL()))
			},
		},
		{
			name:   "code_challenge_methods_supported absent",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL(), func(m map[string]any) {
					delete(m, "code_challenge_methods_supported")
				}))
			},
			reason: ReasonPKCEUnsupported,
		},
		{
			name:   "only plain PKCE",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL(), func(m map[string]any) {
					m["code_challenge_methods_supported"] = []string{"plain"}
				}))
			},
			reason: ReasonPKCEUnsupported,
		},
		{
			name:   "missing token endpoint",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL(), func(m map[string]any) {
					delete(m, "token_endpoint")
				}))
			},
			reason: ReasonDiscoveryFailed,
		},
		{
			name:   "token endpoint on the cloud metadata address",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL(), func(m map[string]any) {
					m["token_endpoint"] = "http://169.254.169.254/latest/meta-data/iam?x=1"
				}))
			},
			reason: ReasonURLBlocked,
		},
		{
			name:   "javascript: authorization endpoint",
			issuer: func(b string) string { return b },
			setup: func(f *fake, iss string) {
				f.json("/.well-known/oauth-authorization-server", asDoc(iss, f.URL(), func(m map[string]any) {
					m["authorization_endpoint"] = "javascript:alert(1)"
				}))
			},
			reason: ReasonDiscoveryFailed,
		},
		{
			name:   "nothing anywhere",
			issuer: func(b string) string { return b },
			setup:  func(*fake, string) {},
			reason: ReasonDiscoveryFailed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			iss := tc.issuer(f.URL())
			tc.setup(f, iss)
			md, err := DiscoverAuthServer(context.Background(), testClient(), iss)
			if tc.reason != "" {
				e := reasonError(t, err, tc.reason)
				if e.Transient {
					t.Error("must not be transient")
				}
				mustNotContain(t, err.Error(), "x=1")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if md.Issuer != iss || md.TokenEndpoint != f.URL()+"/token" {
				t.Errorf("md = %+v", md)
			}
			if tc.check != nil {
				tc.check(t, f, md)
			}
		})
	}
}

func TestDiscoverBackCompat(t *testing.T) {
	t.Run("origin has metadata", func(t *testing.T) {
		f := newFake(t)
		f.mcp401("/v1/mcp", "")
		f.json("/.well-known/oauth-authorization-server", asDoc(f.URL(), f.URL()))
		d, err := Discover(context.Background(), testClient(), f.URL()+"/v1/mcp")
		if err != nil {
			t.Fatal(err)
		}
		if !d.Legacy || d.Resource != f.URL()+"/v1/mcp" || d.ResourceMetadataURL != "" ||
			d.AuthServer.MetadataURL != f.URL()+"/.well-known/oauth-authorization-server" {
			t.Errorf("d = %+v", d)
		}
		if !f.hit("/.well-known/oauth-protected-resource/v1/mcp") || !f.hit("/.well-known/oauth-protected-resource") {
			t.Error("both PRM locations must be tried first")
		}
	})
	t.Run("no metadata at all: default endpoints", func(t *testing.T) {
		f := newFake(t)
		f.mcp401("/v1/mcp", `Bearer realm="atlassian"`)
		d, err := Discover(context.Background(), testClient(), f.URL()+"/v1/mcp")
		if err != nil {
			t.Fatal(err)
		}
		as := d.AuthServer
		if !d.Legacy || as.Issuer != f.URL() || as.AuthorizationEndpoint != f.URL()+"/authorize" ||
			as.TokenEndpoint != f.URL()+"/token" || as.RegistrationEndpoint != f.URL()+"/register" || as.MetadataURL != "" {
			t.Errorf("d = %+v", d)
		}
		// PKCE is still sent with defaulted endpoints.
		u := AuthCodeURL(FlowConfig{Client: Client{ClientID: "c"}, Endpoint: EndpointFromMetadata(&as)}, "s", NewVerifier())
		mustContain(t, u, "code_challenge_method=S256", "code_challenge=")
	})
}

func TestDiscoverLimits(t *testing.T) {
	t.Run("oversize body fails clearly", func(t *testing.T) {
		f := newFake(t)
		f.mcp401("/mcp", "")
		f.handle("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"resource":"` + strings.Repeat("a", 2<<20) + `"}`))
		})
		_, err := Discover(context.Background(), testClient(), f.URL()+"/mcp")
		wantReason(t, err, ReasonDiscoveryFailed)
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("want ErrResponseTooLarge in chain: %v", err)
		}
		mustContain(t, err.Error(), "larger than the 1048576-byte limit")
		if IsTransient(err) {
			t.Error("oversize must not be transient")
		}
	})
	t.Run("slow server hits the timeout", func(t *testing.T) {
		f := newFake(t)
		release := make(chan struct{})
		defer close(release)
		f.handle("/mcp", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		p := testPolicy
		p.Timeout = 150 * time.Millisecond
		start := time.Now()
		_, err := Discover(context.Background(), NewHTTPClient(p), f.URL()+"/mcp")
		wantReason(t, err, ReasonDiscoveryFailed)
		if !IsTransient(err) {
			t.Errorf("timeout must be transient: %v", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Error("timeout not applied")
		}
	})
	t.Run("production policy blocks a plain-http loopback server", func(t *testing.T) {
		f := newFake(t)
		_, err := Discover(context.Background(), NewHTTPClient(EgressPolicy{}), f.URL()+"/mcp?key=s3cr3t")
		wantReason(t, err, ReasonURLBlocked)
		mustContain(t, err.Error(), "--allow-insecure-http", f.URL()+"/mcp")
		mustNotContain(t, err.Error(), "s3cr3t")
		if f.hit("/mcp") {
			t.Error("request sent")
		}
	})
	t.Run("invalid server URL", func(t *testing.T) {
		_, err := Discover(context.Background(), testClient(), "ftp://x/mcp")
		wantReason(t, err, ReasonDiscoveryFailed)
	})
}
