package oauth

// Fuzz targets for what this package parses from the network or from a
// browser. Each asserts properties of what it accepts and of the errors it
// returns, not only that nothing panics. Seeds: the f.Add calls and
// testdata/fuzz/<target>/; they also run as plain tests in go test ./....
// `make fuzz` runs every target briefly; `make fuzz FUZZ_TIME=10m` for longer.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// checkMessage fails when msg, text shown to people (a condition, an event,
// a page, a log line), has a control character or quotes one of secrets
// (or its query-escaped form). A secret shorter than redact.Secrets handles
// (4 bytes) or one that the message says whatever the input (found in
// skeleton) is skipped: that is no leak.
func checkMessage(t *testing.T, msg, skeleton string, secrets ...string) {
	t.Helper()
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("message has a control character at byte %d: %q", i, msg)
	}
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s)} {
			if !strings.Contains(skeleton, form) && strings.Contains(msg, form) {
				t.Fatalf("message quotes the secret %q: %q", s, msg)
			}
		}
	}
}

// checkBounded fails when a message grows with its input: upstream text
// quoted in messages is truncated (maxQuoted runes).
func checkBounded(t *testing.T, msg string, maxRunes int) {
	t.Helper()
	if n := utf8.RuneCountInString(msg); n > maxRunes {
		t.Fatalf("message has %d runes, more than %d: %q", n, maxRunes, msg)
	}
}

// isTokenChars reports whether s is made of URL-safe token characters, the
// alphabet of states, codes and most tokens. Leak checks only look for
// secrets of this shape: %q quoting in messages changes others.
func isTokenChars(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r >= utf8.RuneSelf || !strings.ContainsRune("-._~", r) &&
			(r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z')
	})
}

// containsEscaped reports whether v occurs in s, each of its bytes possibly
// preceded by a backslash: how a quoted-string value (RFC 9110 §5.6.4)
// appears in the header it was parsed from.
func containsEscaped(s, v string) bool {
	if v == "" {
		return true
	}
	// match[j] for the current k: v[k:] can be matched starting at s[j].
	next := make([]bool, len(s)+2)
	cur := make([]bool, len(s)+2)
	for j := range next {
		next[j] = true // v[len(v):] matches anywhere
	}
	for k := len(v) - 1; k >= 0; k-- {
		for j := len(s); j >= 0; j-- {
			ok := false
			if j < len(s) && s[j] == v[k] {
				ok = next[j+1]
			}
			if !ok && j+1 < len(s) && s[j] == '\\' && s[j+1] == v[k] {
				ok = next[j+2]
			}
			cur[j] = ok
		}
		next, cur = cur, next
	}
	return slices.Contains(next[:len(s)+1], true)
}

// quoteParam renders v as an RFC 9110 quoted-string.
func quoteParam(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// FuzzBearerChallenge: BearerChallenge and InsufficientScope on arbitrary
// WWW-Authenticate values (one header line per "\n"-separated part), and a
// round trip through a well-formed step-up challenge built from scope and
// resourceMetadata.
//
// Properties: a parsed challenge's keys are lower case and occur in the
// input; its values are non-empty and occur in the input (quoted-string
// escapes aside); a header without "bearer" yields no challenge;
// InsufficientScope is exactly "403, a Bearer challenge, error=
// insufficient_scope" and returns ParseScope of its scope; the built
// challenge parses back to its parameters.
func FuzzBearerChallenge(f *testing.F) {
	for _, s := range []struct {
		header          string
		status          int
		scope, resource string
	}{
		{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="repo read:org"`, 401, "repo read:org", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{`Bearer error="insufficient_scope", scope="files:read files:write", error_description="Additional file write permission required"`, 403, "files:write", ""},
		{`Basic realm="x", Bearer realm="mcp", error="invalid_token"`, 401, "", ""},
		{`DPoP algs="ES256 PS256", Bearer error=insufficient_scope, scope=admin`, 403, "admin", ""},
		{"Basic realm=\"fakeauth\"\nBearer scope=\"a\\\"b c\\\\\"", 403, `a"b c\`, "https://mcp.example.com/prm?x=1,y=2"},
		{`Bearer`, 401, "", ""},
		{`bearer   ERROR="insufficient_scope" , SCOPE="x"`, 403, "x  y", ""},
		{`Bearer error="unterminated`, 403, "", ""},
		{`Bearer token68abc==`, 401, "", ""},
		{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`, 401, "", ""},
	} {
		f.Add(s.header, s.status, s.scope, s.resource)
	}
	f.Fuzz(func(t *testing.T, header string, status int, scope, resource string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		for line := range strings.SplitSeq(header, "\n") {
			resp.Header.Add("WWW-Authenticate", line)
		}
		params, ok := BearerChallenge(resp)
		if ok {
			if params == nil {
				t.Fatal("a challenge with nil params")
			}
			lower := strings.ToLower(header)
			if !strings.Contains(lower, "bearer") {
				t.Fatalf("Bearer challenge found in %q", header)
			}
			for k, v := range params {
				if k != strings.ToLower(k) {
					t.Errorf("key %q is not lower case", k)
				}
				if k == "" || !strings.Contains(lower, k) {
					t.Errorf("key %q does not occur in the header", k)
				}
				if v == "" || !containsEscaped(header, v) {
					t.Errorf("value %q of %q does not occur in the header", v, k)
				}
			}
		} else if params != nil {
			t.Fatalf("no challenge, but params %v", params)
		}

		scopes, step := InsufficientScope(resp)
		wantStep := status == http.StatusForbidden && ok && params["error"] == "insufficient_scope"
		if step != wantStep {
			t.Fatalf("InsufficientScope = %t, want %t (status %d, params %v)", step, wantStep, status, params)
		}
		if step {
			if !slices.Equal(scopes, ParseScope(params["scope"])) {
				t.Fatalf("scopes %q, want ParseScope(%q)", scopes, params["scope"])
			}
			checkScopes(t, scopes, params["scope"])
		} else if scopes != nil {
			t.Fatalf("no step-up, but scopes %q", scopes)
		}

		// Round trip: a well-formed challenge among others parses back.
		// Values must be header-safe (no control characters) and non-empty
		// (the parser rejects scope="").
		// A value must not end with a backslash either: the go-sdk's
		// oauthex.ParseWWWAuthenticate (v1.8.0) takes the quote after an
		// escaped backslash (`"a\\"`) for an escaped quote and merges the
		// next challenge into this one.
		if strings.ContainsFunc(scope+resource, unicode.IsControl) || !utf8.ValidString(scope+resource) ||
			strings.HasSuffix(scope, `\`) || strings.HasSuffix(resource, `\`) {
			return
		}
		built := `DPoP algs="ES256", Bearer error="insufficient_scope"`
		want := map[string]string{"error": "insufficient_scope"}
		if scope != "" {
			built += ", scope=" + quoteParam(scope)
			want["scope"] = scope
		}
		if resource != "" {
			built += ", resource_metadata=" + quoteParam(resource)
			want["resource_metadata"] = resource
		}
		built += `, Basic realm="other"`
		resp = &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Www-Authenticate": {built}}}
		got, ok := BearerChallenge(resp)
		if !ok || !mapsEqual(got, want) {
			t.Fatalf("challenge %s parsed as %q (%t), want %q", built, got, ok, want)
		}
		if scopes, step := InsufficientScope(resp); !step || !slices.Equal(scopes, ParseScope(scope)) {
			t.Fatalf("InsufficientScope(%s) = %q, %t; want %q", built, scopes, step, ParseScope(scope))
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// checkScopes: scopes parsed from from are non-empty, without white space,
// unique, and each occurs in from.
func checkScopes(t *testing.T, scopes []string, from string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range scopes {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) || seen[s] || !strings.Contains(from, s) {
			t.Fatalf("scope %q of %q: empty, with space, repeated or not in the input (all: %q)", s, from, scopes)
		}
		seen[s] = true
	}
}

// FuzzAuthorizationResponse: ParseAuthorizationResponse on an arbitrary
// redirect query, expected state and issuer.
//
// Properties: a code is returned only when the state matches (and is not
// empty), RFC 9207 holds for iss, there is no error parameter, and the code
// is the query's; every refusal is an *AuthorizationResponseError of the
// kind the documented order gives; its message never quotes the state or
// the code and has no control characters.
func FuzzAuthorizationResponse(f *testing.F) {
	const state = "Qm9keS1zdGF0ZS0xMjM0NTY3ODkw"
	const iss = "https://auth.example.com"
	for _, s := range []struct {
		query, state, issuer string
		issSupported         bool
	}{
		{"code=SplxlOBeZQQYbYS6WxSbIA&state=$STATE&iss=" + url.QueryEscape(iss), state, iss, true},
		{"code=SplxlOBeZQQYbYS6WxSbIA&state=" + state, state, iss, false},
		{"code=SplxlOBeZQQYbYS6WxSbIA&state=forged", state, iss, true},
		{"error=access_denied&error_description=The+user+said+no&state=$STATE&iss=" + url.QueryEscape(iss), state, iss, true},
		{"error=server_error&error_description=echo+" + state + "&state=$STATE", state, "", false},
		{"code=c0de-c0de-c0de&state=$STATE&iss=https%3A%2F%2Fevil.example", state, iss, false},
		// Regression: the quoted iss of a mismatch carried the state and code.
		{"code=c0de-c0de-c0de&state=$STATE&iss=https%3A%2F%2Fevil.example%2F%3Fs%3D$STATE%26c%3Dc0de-c0de-c0de", state, iss, false},
		{"code=a&code=b&state=$STATE&state=x&iss=" + url.QueryEscape(iss) + "&iss=y", state, iss, true},
		{"state=$STATE&iss=" + url.QueryEscape(iss), state, iss, true},
		{"code=abc;state=%zz&state=" + state, state, "", false},
		{"", "", "", false},
	} {
		f.Add(s.query, s.state, s.issuer, s.issSupported)
	}
	f.Fuzz(func(t *testing.T, rawQuery, wantState, issuer string, issSupported bool) {
		// "$STATE" in the query stands for the expected state, so that
		// mutations can move it into other parameters.
		rawQuery = strings.ReplaceAll(rawQuery, "$STATE", url.QueryEscape(wantState))
		q, _ := url.ParseQuery(rawQuery) // what the callback server gets from r.URL.Query()
		cfg := FlowConfig{Endpoint: Endpoint{Issuer: issuer, ISSParameterSupported: issSupported}}
		code, err := ParseAuthorizationResponse(cfg, q, wantState)

		stateOK := wantState != "" && q.Get("state") == wantState
		issVals, issPresent := q["iss"]
		var firstISS string
		if len(issVals) > 0 {
			firstISS = issVals[0]
		}
		issOK := true
		switch {
		case issSupported && !issPresent:
			issOK = false
		case issPresent && (issuer != "" || issSupported) && firstISS != issuer:
			issOK = false
		}

		if err == nil {
			if !stateOK || !issOK || q.Has("error") || code == "" || code != q.Get("code") {
				t.Fatalf("accepted %q (code %q) for state %q, issuer %q (supported %t)", rawQuery, code, wantState, issuer, issSupported)
			}
			return
		}
		if code != "" {
			t.Fatalf("error %v with code %q", err, code)
		}
		var are *AuthorizationResponseError
		if !errors.As(err, &are) {
			t.Fatalf("error %T %v, want *AuthorizationResponseError", err, err)
		}
		var wantKind AuthorizationResponseKind
		switch {
		case !stateOK:
			wantKind = StateMismatch
		case !issOK:
			wantKind = IssuerMismatch
		case q.Has("error"):
			wantKind = Denied
		default:
			wantKind = NoCode
		}
		if are.Kind != wantKind {
			t.Fatalf("kind %d, want %d for %q", are.Kind, wantKind, rawQuery)
		}
		if are.IsAccessDenied() != (wantKind == Denied && q.Get("error") == "access_denied") {
			t.Fatalf("IsAccessDenied() = %t for %q", are.IsAccessDenied(), rawQuery)
		}
		skeleton := authResponseSkeleton(cfg)
		var secrets []string
		for _, s := range []string{wantState, q.Get("code")} {
			if isTokenChars(s) {
				secrets = append(secrets, s)
			}
		}
		msg := err.Error()
		checkMessage(t, msg, skeleton, secrets...)
		checkBounded(t, msg, 4*maxQuoted+len(skeleton))
	})
}

// authResponseSkeleton is what the refusals say for cfg whatever the query.
func authResponseSkeleton(cfg FlowConfig) string {
	var b strings.Builder
	for k := StateMismatch; k <= NoCode; k++ {
		b.WriteString((&AuthorizationResponseError{Kind: k}).Error() + "\n")
	}
	for _, present := range []bool{false, true} {
		if err := CheckIssuerParameter(cfg, "", present); err != nil {
			b.WriteString(err.Error() + "\n")
		}
	}
	return b.String()
}

// Secrets a token request carries, which a broken server may echo back.
const (
	fuzzRefreshToken = "1//0gRefreshTok-EN_value42"
	fuzzClientSecret = "GOCSPX-fuzzClientSecretValue"
	fuzzCode         = "4/0AanRRrtCode_VALUE-xyz"
	fuzzVerifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// FuzzTokenResponse: parseTokenResponse (refresh) and fromOAuth2Error (code
// exchange) on an arbitrary status, Content-Type and body.
//
// Properties: a token is returned only for a 2xx without an error member,
// with an access token, a token type, a lifetime in [0, 10 years] that
// agrees with Expiry, and clean scopes; a refusal is a *TokenError with the
// response's status whose message never quotes the refresh token, client
// secret, code or verifier, has no control characters and is bounded.
func FuzzTokenResponse(f *testing.F) {
	for _, s := range []struct {
		status      int
		contentType string
		body        string
	}{
		{200, "application/json", `{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","expires_in":3600,"refresh_token":"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c3","scope":"repo gist"}`},
		{200, "application/json;charset=UTF-8", `{"access_token":"ya29.a0Af","expires_in":"3599","scope":"openid  email openid","id_token":"eyJ.x.y","token_type":"Bearer"}`},
		{200, "application/x-www-form-urlencoded", `access_token=e72e16c7e42f292c6912e7710c838347ae178b4a&scope=user%2Cgist&token_type=bearer`},
		{200, "text/plain", `access_token=abc&expires_in=1e400`},
		{200, "application/json", `{"access_token":"x","expires_in":1e999}`},
		{200, "application/json", `{"access_token":"x","expires_in":-5,"token_type":""}`},
		{200, "application/json", `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"Token ` + fuzzRefreshToken + ` has been expired or revoked."}`},
		{401, "application/json", `{"error":"invalid_client","error_description":"client_secret=` + fuzzClientSecret + ` is wrong"}`},
		{401, "text/html", "<html><body>Unauthorized " + url.QueryEscape(fuzzRefreshToken) + "</body></html>"},
		{400, "text/plain", `{"error":"invalid_request","error_description":"code ` + fuzzCode + ` and verifier ` + fuzzVerifier + `"}`},
		{503, "", "upstream connect error or disconnect/reset before headers. " + fuzzClientSecret},
		{429, "application/x-www-form-urlencoded", "error=temporarily_unavailable&error_description=" + url.QueryEscape("slow down "+fuzzRefreshToken)},
		{200, "application/json", `{"access_token":"","token_type":"Bearer"}`},
		{200, "application/json", `not json`},
	} {
		f.Add(s.status, s.contentType, []byte(s.body))
	}
	secrets := []string{fuzzRefreshToken, fuzzClientSecret, fuzzCode, fuzzVerifier}
	const safeURL = "https://auth.example.com/oauth/token"
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		header := http.Header{"Content-Type": {contentType}}
		r := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body))}
		defer r.Body.Close()
		before := time.Now()
		tok, err := parseTokenResponse(r, safeURL, secrets...)
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("token from HTTP %d", status)
			}
			if tok.AccessToken == "" || tok.TokenType == "" {
				t.Fatalf("token without access token or type: %+v", tok)
			}
			const maxLifetime = 10 * 365 * 24 * time.Hour
			if tok.ExpiresIn < 0 || tok.ExpiresIn > maxLifetime || tok.ExpiresIn%time.Second != 0 {
				t.Fatalf("ExpiresIn %v", tok.ExpiresIn)
			}
			if tok.ExpiresIn == 0 != tok.Expiry.IsZero() {
				t.Fatalf("ExpiresIn %v with Expiry %v", tok.ExpiresIn, tok.Expiry)
			}
			if !tok.Expiry.IsZero() && (tok.Expiry.Before(before.Add(tok.ExpiresIn)) || tok.Expiry.After(time.Now().Add(tok.ExpiresIn))) {
				t.Fatalf("Expiry %v is not now + %v", tok.Expiry, tok.ExpiresIn)
			}
			for _, s := range tok.Scopes {
				if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
					t.Fatalf("scope %q", s)
				}
			}
		} else {
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %T %v, want *TokenError", err, err)
			}
			if te.StatusCode != status {
				t.Fatalf("StatusCode %d, want %d", te.StatusCode, status)
			}
			if te.IsInvalidGrant() != (te.Code == "invalid_grant") {
				t.Fatalf("IsInvalidGrant() = %t with code %q", te.IsInvalidGrant(), te.Code)
			}
			msg := err.Error()
			checkMessage(t, msg, tokenSkeleton(safeURL, status), secrets...)
			checkBounded(t, msg, 2*maxQuoted+200)
		}

		// The code exchange goes through x/oauth2, whose *RetrieveError
		// carries the raw body: with the error fields it parsed (a form) or
		// without (JSON served as text/plain).
		form, _ := url.ParseQuery(string(body))
		answered := &http.Response{StatusCode: status, Header: header, Body: http.NoBody}
		defer answered.Body.Close()
		for _, re := range []*oauth2.RetrieveError{
			{Response: answered, Body: body},
			{Response: answered, Body: body, ErrorCode: form.Get("error"), ErrorDescription: form.Get("error_description")},
		} {
			te := fromOAuth2Error(re, safeURL, fuzzCode, fuzzVerifier, fuzzClientSecret)
			msg := te.Error()
			checkMessage(t, msg, tokenSkeleton(safeURL, status), fuzzCode, fuzzVerifier, fuzzClientSecret)
			checkBounded(t, msg, 2*maxQuoted+200)
		}
	})
}

// tokenSkeleton is what a *TokenError says whatever the body.
func tokenSkeleton(safeURL string, status int) string {
	var b strings.Builder
	for _, code := range []string{"", "invalid_grant", "invalid_client"} {
		b.WriteString((&TokenError{URL: safeURL, StatusCode: status, Code: code}).Error() + "\n")
	}
	return b.String()
}

// FuzzRegistrationResponse: clientFromRegistration on an arbitrary DCR
// answer body, for each token_endpoint_auth_method the request may ask for.
//
// Properties: an accepted client has a client_id, Method DCR, the issuer,
// an auth method the operator implements, a secret when that method needs
// one, and a secret expiry that is zero or a real instant after 1970; a
// refusal is a RegistrationFailed *Error whose message never quotes the
// client secret or registration access token and has no control characters.
func FuzzRegistrationResponse(f *testing.F) {
	for _, s := range []struct {
		body      string
		requested uint8
	}{
		{`{"client_id":"s6BhdRkqt3","client_secret":"cf136dc3c1fc93f31185e5885805d","client_id_issued_at":2893256800,"client_secret_expires_at":2893276800,"redirect_uris":["https://cb.example.com/callback"],"token_endpoint_auth_method":"client_secret_basic","registration_access_token":"this.is.an.access.token.value.ffx83","registration_client_uri":"https://server.example.com/connect/register?client_id=s6BhdRkqt3"}`, 1},
		{`{"client_id":"mcp-client-1","token_endpoint_auth_method":"none","client_secret_expires_at":0}`, 0},
		{`{"client_id":"c","client_secret":"s3cr3t-value-abc"}`, 0},
		{`{"client_id":"c","client_secret":"s3cr3t-value-abc"}`, 2},
		{`{"client_id":"c","token_endpoint_auth_method":"client_secret_post"}`, 2},
		{`{"client_id":"c","client_secret":"s3cr3t-value-abc","token_endpoint_auth_method":"private_key_jwt"}`, 1},
		{`{"client_id":"c","client_secret":"s3cr3t-value-abc","client_secret_expires_at":"1.7e9"}`, 1},
		{`{"client_id":"c","client_secret":"s3cr3t-value-abc","client_secret_expires_at":1e300}`, 1},
		{`{"client_id":"c","client_secret_expires_at":-1}`, 0},
		{`{"client_id":""}`, 0},
		{`{"client_id":12}`, 0},
		{`<html>Created</html>`, 0},
	} {
		f.Add([]byte(s.body), s.requested)
	}
	methods := []string{AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost}
	const safe, issuer = "https://auth.example.com/register", "https://auth.example.com"
	skeleton := registrationSkeleton(safe)
	f.Fuzz(func(t *testing.T, body []byte, requestedIdx uint8) {
		requested := methods[int(requestedIdx)%len(methods)]
		cl, err := clientFromRegistration(body, safe, requested, issuer)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason != ReasonRegistrationFailed || e.Transient {
				t.Fatalf("error %T %v, want a permanent RegistrationFailed *Error", err, err)
			}
			var r dcrResponse
			_ = json.Unmarshal(body, &r)
			checkMessage(t, err.Error(), skeleton, r.ClientSecret, r.RegistrationAccessToken)
			checkBounded(t, err.Error(), 300)
			return
		}
		if cl.ClientID == "" || cl.Method != MethodDCR || cl.Issuer != issuer {
			t.Fatalf("client %+v", cl)
		}
		switch cl.TokenEndpointAuthMethod {
		case AuthMethodNone:
		case AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
			if cl.ClientSecret == "" {
				t.Fatalf("%s without a secret", cl.TokenEndpointAuthMethod)
			}
		default:
			t.Fatalf("auth method %q", cl.TokenEndpointAuthMethod)
		}
		if exp := cl.ClientSecretExpiresAt; !exp.IsZero() {
			if exp.Unix() < 0 || exp.Year() > 9999 {
				t.Fatalf("client secret expires at %v (Unix %d)", exp, exp.Unix())
			}
		}
		// The expiry is the number sent, when it is a plausible instant.
		var r dcrResponse
		if json.Unmarshal(body, &r) == nil {
			if n, err := r.ClientSecretExpiresAt.Float64(); err == nil && n >= 1 && n < maxSecretExpiresAt {
				if got := cl.ClientSecretExpiresAt.Unix(); got != int64(math.Floor(n)) {
					t.Fatalf("client_secret_expires_at %v became %d", n, got)
				}
			}
		}
	})
}

// registrationSkeleton is what clientFromRegistration's refusals say
// whatever the body.
func registrationSkeleton(safe string) string {
	var b strings.Builder
	for _, body := range []string{`{}`, `{"client_id":"c","token_endpoint_auth_method":"client_secret_basic"}`,
		`{"client_id":"c","token_endpoint_auth_method":" "}`} {
		if _, err := clientFromRegistration([]byte(body), safe, AuthMethodNone, ""); err != nil {
			b.WriteString(err.Error() + "\n")
		}
	}
	return b.String()
}
