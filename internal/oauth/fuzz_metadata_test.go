package oauth

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// checkMetadataError: a metadata refusal is a permanent *Error with one of
// the discovery reasons and a bounded, single-line message.
func checkMetadataError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Transient {
		t.Fatalf("error %T %v, want a permanent *Error", err, err)
	}
	switch e.Reason {
	case ReasonDiscoveryFailed, ReasonIssuerMismatch, ReasonResourceMismatch, ReasonPKCEUnsupported, ReasonURLBlocked:
	default:
		t.Fatalf("reason %q: %v", e.Reason, err)
	}
	checkMessage(t, err.Error(), "")
	checkBounded(t, err.Error(), 3*maxQuoted+300)
}

// FuzzProtectedResourceMetadata: decodeMetadata and checkPRM (fetchPRM
// without the GET) on an arbitrary RFC 9728 answer for
// https://mcp.example.com/mcp, then asMetadataURLs on the authorization
// server it names.
//
// Properties: an accepted document is for this resource (exactly, up to a
// trailing slash, or its origin when the document came from the root
// well-known URL) and names an authorization server; the well-known URLs
// derived from that server's issuer stay on its origin and carry no query
// or fragment; refusals are permanent *Error with a bounded single-line
// message.
func FuzzProtectedResourceMetadata(f *testing.F) {
	for _, s := range []struct {
		contentType string
		body        string
		allowOrigin bool
	}{
		{"application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["read","write"],"bearer_methods_supported":["header"]}`, false},
		{"application/json; charset=utf-8", `{"resource":"https://mcp.example.com/mcp/","authorization_servers":["https://login.example.com/tenant/v2.0/"]}`, false},
		{"application/json", `{"resource":"https://mcp.example.com","authorization_servers":["https://auth.example.com/"]}`, true},
		{"application/json", `{"resource":"https://mcp.example.com","authorization_servers":["https://auth.example.com/"]}`, false},
		{"application/json", `{"resource":"https://evil.example/mcp","authorization_servers":["https://auth.example.com"]}`, false},
		{"application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":[]}`, false},
		{"application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":["","https://auth.example.com"]}`, false},
		{"application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com?tenant=1#x"]}`, false},
		{"application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://user:pw@auth.example.com/a/%2e%2e/?#"]}`, false},
		{"text/html", `<!doctype html><html><body>Not here</body></html>`, false},
		{"", `{"resource": 1}`, false},
		{"application/json, application/json", `{"resource":"https://mcp.example.com/mcp","authorization_servers":"https://auth.example.com"}`, false},
		{"text/plain", `null`, false},
	} {
		f.Add(s.contentType, []byte(s.body), s.allowOrigin)
	}
	const serverURL = "https://mcp.example.com/mcp"
	f.Fuzz(func(t *testing.T, contentType string, body []byte, allowOrigin bool) {
		prmURL := "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
		if allowOrigin {
			prmURL = "https://mcp.example.com/.well-known/oauth-protected-resource"
		}
		var prm oauthex.ProtectedResourceMetadata
		status, err := decodeMetadata(redact.URL(prmURL), contentType, body, &prm)
		if err != nil {
			checkMetadataError(t, err)
			return
		}
		if status == fetchAbsent {
			return
		}
		if err := checkPRM(&prm, prmURL, serverURL, allowOrigin); err != nil {
			checkMetadataError(t, err)
			return
		}
		res := strings.TrimSuffix(prm.Resource, "/")
		if res != serverURL && (!allowOrigin || res != "https://mcp.example.com") {
			t.Fatalf("accepted a document for resource %q (allowOrigin %t)", prm.Resource, allowOrigin)
		}
		if len(prm.AuthorizationServers) == 0 || prm.AuthorizationServers[0] == "" {
			t.Fatalf("accepted a document without an authorization server: %q", prm.AuthorizationServers)
		}

		issuer := prm.AuthorizationServers[0]
		urls, err := asMetadataURLs(issuer)
		if err != nil {
			checkMetadataError(t, err)
			return
		}
		iu, perr := url.Parse(issuer)
		if perr != nil {
			t.Fatalf("well-known URLs for an issuer that does not parse: %q", issuer)
		}
		if n := len(urls); n != 2 && n != 3 {
			t.Fatalf("%d well-known URLs for %q", n, issuer)
		}
		for _, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != iu.Scheme || u.Host != iu.Host || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
				!strings.Contains(u.EscapedPath(), "/.well-known/") {
				t.Fatalf("well-known URL %q for issuer %q leaves its origin or has a query or fragment", raw, issuer)
			}
		}
	})
}

// FuzzAuthServerMetadata: decodeMetadata and authServerFromDocument
// (discoverAuthServer without the GETs) on an arbitrary RFC 8414 / OpenID
// Connect answer, for a root issuer and one with a path, under the
// production egress policy.
//
// Properties: an accepted document's issuer is identical to the one looked
// up; it has authorization and token endpoints and advertises S256; every
// endpoint it names is an absolute https URL with a host, no fragment, and
// no loopback, link-local, unspecified or metadata-service address or
// localhost name; refusals are permanent *Error with a bounded single-line
// message, and only an issuer difference is an IssuerMismatch.
func FuzzAuthServerMetadata(f *testing.F) {
	const good = `{"issuer":"https://auth.example.com","authorization_endpoint":"https://auth.example.com/authorize","token_endpoint":"https://auth.example.com/oauth/token",` +
		`"registration_endpoint":"https://auth.example.com/oidc/register","revocation_endpoint":"https://auth.example.com/oauth/revoke","scopes_supported":["openid","offline_access"],` +
		`"response_types_supported":["code"],"code_challenge_methods_supported":["S256","plain"],"token_endpoint_auth_methods_supported":["client_secret_basic","none"],` +
		`"grant_types_supported":["authorization_code","refresh_token"],"authorization_response_iss_parameter_supported":true,"client_id_metadata_document_supported":true}`
	for _, s := range []struct {
		contentType string
		body        string
		pathIssuer  bool
	}{
		{"application/json", good, false},
		{"application/json", `{"issuer":"https://login.example.com/tenant/v2.0","authorization_endpoint":"https://login.example.com/tenant/oauth2/v2.0/authorize","token_endpoint":"https://login.example.com/tenant/oauth2/v2.0/token","code_challenge_methods_supported":["S256"]}`, true},
		{"application/json", strings.Replace(good, `"https://auth.example.com"`, `"https://auth.example.com/"`, 1), false},
		{"application/json", strings.Replace(good, `"S256",`, ``, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/oauth/token`, `http://auth.example.com/oauth/token`, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/oidc/register`, `https://169.254.169.254/latest/meta-data`, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/oauth/revoke`, `https://[::ffff:127.0.0.1]:8443/revoke`, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/authorize`, `https://localhost./authorize#frag`, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/oauth/token`, `/oauth/token`, 1), false},
		{"application/json", strings.Replace(good, `"token_endpoint":"https://auth.example.com/oauth/token",`, ``, 1), false},
		{"application/json", strings.Replace(good, `https://auth.example.com/authorize`, `https://[64:ff9b::a9fe:a9fe]/authorize`, 1), false},
		{"text/html; charset=utf-8", `<html><head><title>Sign in</title></head></html>`, false},
		{"application/json", `{"issuer":"https://auth.example.com",`, false},
		{"text/plain", ` {"issuer": ["https://auth.example.com"]}`, false},
	} {
		f.Add(s.contentType, []byte(s.body), s.pathIssuer)
	}
	c := NewHTTPClient(EgressPolicy{}) // the production policy
	f.Fuzz(func(t *testing.T, contentType string, body []byte, pathIssuer bool) {
		issuer, mdURL := "https://auth.example.com", "https://auth.example.com/.well-known/oauth-authorization-server"
		if pathIssuer {
			issuer, mdURL = "https://login.example.com/tenant/v2.0", "https://login.example.com/.well-known/openid-configuration/tenant/v2.0"
		}
		var raw oauthex.AuthServerMeta
		status, err := decodeMetadata(mdURL, contentType, body, &raw)
		if err != nil {
			checkMetadataError(t, err)
			return
		}
		if status == fetchAbsent {
			return
		}
		md, err := authServerFromDocument(c, issuer, mdURL, &raw)
		if err != nil {
			checkMetadataError(t, err)
			if (ReasonOf(err) == ReasonIssuerMismatch) != (raw.Issuer != issuer) {
				t.Fatalf("issuer %q looked up as %q: %v", raw.Issuer, issuer, err)
			}
			return
		}
		if md.Issuer != issuer || md.MetadataURL != mdURL {
			t.Fatalf("accepted issuer %q (metadata URL %q) for %q", md.Issuer, md.MetadataURL, issuer)
		}
		if md.AuthorizationEndpoint == "" || md.TokenEndpoint == "" || !md.SupportsS256() {
			t.Fatalf("accepted metadata without endpoints or S256: %+v", md)
		}
		for _, ep := range []string{md.AuthorizationEndpoint, md.TokenEndpoint, md.RegistrationEndpoint, md.RevocationEndpoint} {
			if ep != "" {
				checkEndpoint(t, ep)
			}
		}
	})
}

// checkEndpoint fails unless ep is a URL the production egress policy may
// send OAuth requests to, judged without the policy's code: https, a host,
// no fragment, not localhost, and no loopback, link-local, unspecified,
// multicast or cloud-metadata IP literal (IPv4 inside IPv6 included).
func checkEndpoint(t *testing.T, ep string) {
	t.Helper()
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" || u.Fragment != "" {
		t.Fatalf("accepted endpoint %q: not an absolute https URL with a host and no fragment", ep)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		t.Fatalf("accepted endpoint %q on localhost", ep)
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return
	}
	ip = ip.WithZone("")
	check := []netip.Addr{ip.Unmap()}
	if ip.Is6() && !ip.Is4In6() {
		b := ip.As16()
		for _, p := range []string{"64:ff9b::/96", "64:ff9b:1::/48", "::/96"} {
			if netip.MustParsePrefix(p).Contains(ip) {
				check = append(check, netip.AddrFrom4([4]byte(b[12:16])))
			}
		}
		if netip.MustParsePrefix("2002::/16").Contains(ip) {
			check = append(check, netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, a := range check {
		if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified() ||
			a == netip.MustParseAddr("100.100.100.200") || a == netip.MustParseAddr("fd00:ec2::254") ||
			(a.Is4() && a.As4()[0] == 0) {
			t.Fatalf("accepted endpoint %q: %s may not be dialled", ep, a)
		}
	}
}
