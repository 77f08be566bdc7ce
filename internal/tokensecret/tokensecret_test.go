package tokensecret

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func testServer() *mcpv1.MCPServer {
	return &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Namespace: "chat", Name: "github", UID: types.UID("uid-1")}}
}

func grant(refresh string, expiry time.Time) Grant {
	return Grant{
		User: "alice@example.com",
		Tokens: Tokens{AccessToken: "at-1", TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry,
			Scopes: []string{"mcp:read", "", "mcp:tools", "mcp:read"}},
		Issuer: "https://as.example.com", Resource: "https://mcp.example.com/mcp", TokenEndpoint: "https://as.example.com/token",
		ClientID: "dcr-1", IssuedAt: t0,
	}
}

func TestWriteGrantReadRoundTrip(t *testing.T) {
	srv := testServer()
	cases := []struct {
		name    string
		refresh string
		expiry  time.Time
	}{
		{"refresh token and expiry", "rt-1", t0.Add(time.Hour)},
		{"no refresh token", "", t0.Add(time.Hour)},
		{"no expiry", "rt-1", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec := &corev1.Secret{}
			WriteGrant(sec, srv, grant(tc.refresh, tc.expiry))

			if sec.Namespace != "chat" || sec.Name != Name("github", "alice@example.com") || sec.Type != mcpv1.SecretTypeUserToken {
				t.Errorf("namespace/name/type = %s/%s/%s", sec.Namespace, sec.Name, sec.Type)
			}
			if !reflect.DeepEqual(sec.Labels, Labels("github", "alice@example.com")) {
				t.Errorf("labels = %v", sec.Labels)
			}
			if len(sec.OwnerReferences) != 1 {
				t.Fatalf("owner references = %v", sec.OwnerReferences)
			}
			o := sec.OwnerReferences[0]
			if o.APIVersion != mcpv1.GroupVersion.String() || o.Kind != "MCPServer" || o.Name != "github" || o.UID != "uid-1" ||
				o.Controller == nil || !*o.Controller || o.BlockOwnerDeletion == nil || !*o.BlockOwnerDeletion {
				t.Errorf("owner reference = %+v", o)
			}
			if _, ok := sec.Data[KeyRefreshToken]; ok != (tc.refresh != "") {
				t.Errorf("refresh_token key present = %v", ok)
			}
			if _, ok := sec.Data[KeyExpiry]; ok != !tc.expiry.IsZero() {
				t.Errorf("expiry key present = %v", ok)
			}

			rec := Read(sec)
			want := Record{
				Server: "github", User: "alice@example.com", State: StateActive, GrantID: rec.GrantID, IssuedAt: t0,
				AccessToken: "at-1", TokenType: "Bearer", RefreshToken: tc.refresh, Expiry: tc.expiry,
				Scopes: []string{"mcp:read", "mcp:tools"}, Issuer: "https://as.example.com", Resource: "https://mcp.example.com/mcp",
				TokenEndpoint: "https://as.example.com/token", ClientID: "dcr-1",
			}
			if rec.GrantID == "" {
				t.Error("no grant ID written")
			}
			if !reflect.DeepEqual(rec, want) {
				t.Errorf("Read =\n%#v\nwant\n%#v\n(%+v)", rec, want, fieldDiff(rec, want))
			}
		})
	}
}

// fieldDiff names the fields that differ (String hides the tokens).
func fieldDiff(a, b Record) []string {
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if f := va.Type().Field(i); f.IsExported() && !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, f.Name)
		}
	}
	return out
}

func TestWriteGrantReplacesAnEarlierGrant(t *testing.T) {
	srv := testServer()
	sec := &corev1.Secret{}
	WriteGrant(sec, srv, grant("rt-1", t0.Add(time.Hour)))
	first := Read(sec).GrantID
	// What the refresher and others left on the earlier grant.
	ApplyBackoff(sec, "HTTP 503", 2, t0.Add(time.Minute))
	sec.ResourceVersion, sec.UID = "42", "secret-uid"
	sec.OwnerReferences = append(sec.OwnerReferences, metav1.OwnerReference{Name: "someone-else"})
	sec.StringData = map[string]string{"stale": "x"}

	other := grant("", t0.Add(2*time.Hour))
	other.ClientID = "dcr-2" // a new client: the old refresh token is not its own
	WriteGrant(sec, srv, other)
	rec := Read(sec)
	if rec.GrantID == first || rec.GrantID == "" {
		t.Errorf("grant ID %q after %q: a reconnect must write a new one", rec.GrantID, first)
	}
	if rec.RefreshToken != "" || rec.RefreshError != "" || rec.RefreshFailures != 0 || !rec.RefreshBackoffUntil.IsZero() {
		t.Errorf("the earlier grant survived: %v (refresh error %q)", rec, rec.RefreshError)
	}
	if sec.ResourceVersion != "42" || sec.UID != "secret-uid" {
		t.Error("the update lost the Secret's resourceVersion or UID")
	}
	if len(sec.OwnerReferences) != 1 || sec.StringData != nil {
		t.Errorf("owner references %v, stringData %v", sec.OwnerReferences, sec.StringData)
	}
}

// Google issues a refresh token only at first consent: a reconnect whose
// answer has none keeps the stored one when nothing else changed, and says
// so; a rotating refresh clears the note.
func TestWriteGrantKeepsTheRefreshTokenOfTheSameGrant(t *testing.T) {
	srv := testServer()
	first := grant("rt-1", t0.Add(time.Hour))
	cases := []struct {
		name   string
		change func(g *Grant)
		kept   bool
	}{
		{"same user, issuer, client and resource", func(*Grant) {}, true},
		{"another client", func(g *Grant) { g.ClientID = "dcr-2" }, false},
		{"another issuer", func(g *Grant) { g.Issuer = "https://other.example.com" }, false},
		{"another token endpoint", func(g *Grant) { g.TokenEndpoint = "https://as.example.com/v2/token" }, false},
		{"another resource", func(g *Grant) { g.Resource = "https://mcp.example.com/other" }, false},
		{"a new refresh token", func(g *Grant) { g.Tokens.RefreshToken = "rt-2" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec := &corev1.Secret{}
			WriteGrant(sec, srv, first)
			again := grant("", t0.Add(2*time.Hour))
			again.IssuedAt = t0.Add(time.Hour)
			tc.change(&again)
			WriteGrant(sec, srv, again)
			rec := Read(sec)
			_, noted := sec.Annotations[AnnotationRefreshTokenKept]
			if kept := rec.RefreshToken == "rt-1"; kept != tc.kept || noted != tc.kept {
				t.Fatalf("refresh token %s, note %v; want kept = %v", present(rec.RefreshToken), noted, tc.kept)
			}
			if tc.kept && sec.Annotations[AnnotationRefreshTokenKept] != formatTime(t0) {
				t.Errorf("note = %q", sec.Annotations[AnnotationRefreshTokenKept])
			}
		})
	}

	sec := &corev1.Secret{}
	WriteGrant(sec, srv, first)
	WriteGrant(sec, srv, grant("", t0.Add(2*time.Hour)))
	ApplyRefreshed(sec, Tokens{AccessToken: "at-2", TokenType: "Bearer", RefreshToken: "rt-3"}, t0.Add(3*time.Hour))
	if _, noted := sec.Annotations[AnnotationRefreshTokenKept]; noted {
		t.Error("a rotated refresh token is still noted as kept")
	}
}

func TestReadTolerance(t *testing.T) {
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			AnnotationIssuedAt: "yesterday", AnnotationRefreshFailures: "many", AnnotationRefreshBackoffUntil: "soon",
		}},
		Data: map[string][]byte{KeyAccessToken: []byte("at"), KeyExpiry: []byte("tomorrow")},
	}
	rec := Read(sec)
	if !rec.IssuedAt.IsZero() || rec.RefreshFailures != 0 || !rec.RefreshBackoffUntil.IsZero() || !rec.Expiry.IsZero() {
		t.Errorf("unreadable values did not read as zero: %v", rec)
	}
	if rec.State != StateActive {
		t.Errorf("state = %q, want Active for an access token without a state annotation", rec.State)
	}
	if rec.Scopes != nil {
		t.Errorf("scopes = %#v, want nil", rec.Scopes)
	}
	if rec.AccessTokenValidAt(t0) {
		t.Error("an access token with an unreadable expiry counts as valid")
	}
	if Read(&corev1.Secret{}).State != "" {
		t.Error("an empty Secret reads as Active")
	}
}

func TestUsable(t *testing.T) {
	exp := t0.Add(time.Hour)
	type rec = Record
	cases := []struct {
		name      string
		rec       Record
		now       time.Time
		want      bool
		wantUntil time.Time // checked when want
	}{
		{"active, before expiry", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp.Add(-time.Nanosecond), true, exp},
		{"active, at expiry, no refresh token", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp, false, time.Time{}},
		{"active, expired, no refresh token (not yet marked Expired)", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp.Add(time.Second), false, time.Time{}},
		{"active, expired, refresh token", rec{State: StateActive, AccessToken: "at", RefreshToken: "rt", Expiry: exp}, exp.Add(time.Hour), true, time.Time{}},
		{"active, no expiry recorded", rec{State: StateActive, AccessToken: "at"}, exp.Add(1000 * time.Hour), true, time.Time{}},
		{"active, unreadable expiry, no refresh token", rec{State: StateActive, AccessToken: "at", badExpiry: true}, t0, false, time.Time{}},
		{"active, unreadable expiry, refresh token", rec{State: StateActive, AccessToken: "at", RefreshToken: "rt", badExpiry: true}, t0, true, time.Time{}},
		{"active, no access token", rec{State: StateActive, RefreshToken: "rt", Expiry: exp}, t0, false, time.Time{}},
		{"expired", rec{State: StateExpired, AccessToken: "at", Expiry: exp}, t0, false, time.Time{}},
		{"reauthorization required, refresh token left", rec{State: StateReauthorizationRequired, AccessToken: "at", RefreshToken: "rt", Expiry: exp}, t0, false, time.Time{}},
		{"client invalid", rec{State: StateClientInvalid, AccessToken: "at", RefreshToken: "rt"}, t0, false, time.Time{}},
		{"unknown state", rec{State: "Paused", AccessToken: "at", RefreshToken: "rt"}, t0, false, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rec.Usable(tc.now); got != tc.want {
				t.Errorf("Usable(%v) = %v, want %v", tc.now, got, tc.want)
			}
			until, ok := tc.rec.UsableUntil()
			if tc.want && (!ok || !until.Equal(tc.wantUntil)) {
				t.Errorf("UsableUntil = %v, %v; want %v, true", until, ok, tc.wantUntil)
			}
		})
	}
}

// TestAccessAt: what GetToken and the token endpoint answer, at the
// margin's edges, for each way a token stops being served.
func TestAccessAt(t *testing.T) {
	exp := t0.Add(time.Hour)
	const margin = 10 * time.Second
	type rec = Record
	cases := []struct {
		name string
		rec  Record
		now  time.Time
		want Access
	}{
		{"fresh", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp.Add(-margin - time.Second), AccessOK},
		{"no expiry recorded", rec{State: StateActive, AccessToken: "at"}, exp, AccessOK},
		{"within the margin, refresh token", rec{State: StateActive, AccessToken: "at", RefreshToken: "rt", Expiry: exp}, exp.Add(-margin), AccessRefreshPending},
		{"expired, refresh token (refresh failing)", rec{State: StateActive, AccessToken: "at", RefreshToken: "rt", Expiry: exp}, exp.Add(time.Hour), AccessRefreshPending},
		{"unreadable expiry, refresh token", rec{State: StateActive, AccessToken: "at", RefreshToken: "rt", badExpiry: true}, t0, AccessRefreshPending},
		{"within the margin, no refresh token", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp.Add(-margin), AccessExpired},
		{"expired, no refresh token, not yet marked", rec{State: StateActive, AccessToken: "at", Expiry: exp}, exp, AccessExpired},
		{"marked Expired", rec{State: StateExpired, AccessToken: "at", Expiry: exp}, t0, AccessExpired},
		{"dead grant", rec{State: StateReauthorizationRequired, AccessToken: "at", RefreshToken: "rt", Expiry: exp}, t0, AccessReauthorizationRequired},
		{"client invalid", rec{State: StateClientInvalid, AccessToken: "at", RefreshToken: "rt"}, t0, AccessReauthorizationRequired},
		{"no access token", rec{State: StateActive, RefreshToken: "rt", Expiry: exp}, t0, AccessReauthorizationRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rec.AccessAt(tc.now, margin); got != tc.want {
				t.Errorf("AccessAt(%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

func TestUsableReadsWhatWasWritten(t *testing.T) {
	// The boundary through the codec: a connect without a refresh token.
	sec := &corev1.Secret{}
	WriteGrant(sec, testServer(), grant("", t0.Add(time.Hour)))
	rec := Read(sec)
	if !rec.Usable(t0.Add(time.Hour-time.Second)) || rec.Usable(t0.Add(time.Hour)) {
		t.Error("a token without a refresh token is not usable exactly until its expiry")
	}
	ApplyExpired(sec)
	if Read(sec).Usable(t0) {
		t.Error("an Expired token is usable")
	}
}

func TestApplyRefreshed(t *testing.T) {
	cases := []struct {
		name        string
		tokens      Tokens
		wantRefresh string
		wantScope   string
		wantExpiry  time.Time
	}{
		{"rotated", Tokens{AccessToken: "at-2", TokenType: "Bearer", RefreshToken: "rt-2", Expiry: t0.Add(2 * time.Hour), Scopes: []string{"b"}},
			"rt-2", "b", t0.Add(2 * time.Hour)},
		{"not rotated: the stored refresh token stays", Tokens{AccessToken: "at-2", TokenType: "Bearer", Expiry: t0.Add(2 * time.Hour)},
			"rt-1", "mcp:read mcp:tools", t0.Add(2 * time.Hour)},
		{"no lifetime: the expiry goes", Tokens{AccessToken: "at-2", TokenType: "DPoP", RefreshToken: "rt-2"},
			"rt-2", "mcp:read mcp:tools", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec := &corev1.Secret{}
			WriteGrant(sec, testServer(), grant("rt-1", t0.Add(time.Hour)))
			grantID := Read(sec).GrantID
			ApplyBackoff(sec, "HTTP 503", 3, t0.Add(time.Minute))
			issued := t0.Add(50 * time.Minute)
			ApplyRefreshed(sec, tc.tokens, issued)
			rec := Read(sec)
			if rec.AccessToken != tc.tokens.AccessToken || rec.TokenType != tc.tokens.TokenType || rec.RefreshToken != tc.wantRefresh {
				t.Errorf("tokens = %v (type %q)", rec, rec.TokenType)
			}
			if strings.Join(rec.Scopes, " ") != tc.wantScope || !rec.Expiry.Equal(tc.wantExpiry) || !rec.IssuedAt.Equal(issued) {
				t.Errorf("scopes %v, expiry %v, issued %v", rec.Scopes, rec.Expiry, rec.IssuedAt)
			}
			if rec.State != StateActive || rec.GrantID != grantID {
				t.Errorf("state %q, grant %q (was %q)", rec.State, rec.GrantID, grantID)
			}
			for _, k := range []string{AnnotationRefreshError, AnnotationRefreshFailures, AnnotationRefreshBackoffUntil} {
				if _, ok := sec.Annotations[k]; ok {
					t.Errorf("%s not cleared", k)
				}
			}
			if rec.Issuer == "" || rec.Resource == "" || rec.TokenEndpoint == "" {
				t.Error("a refresh dropped the issuer, resource or token endpoint")
			}
		})
	}
}

func TestApplyDeadBackoffExpired(t *testing.T) {
	fresh := func() *corev1.Secret {
		sec := &corev1.Secret{}
		WriteGrant(sec, testServer(), grant("rt-1", t0.Add(time.Hour)))
		return sec
	}

	sec := fresh()
	ApplyBackoff(sec, "HTTP 503", 1, t0.Add(10*time.Second))
	ApplyBackoff(sec, "Timeout", 2, t0.Add(30*time.Second))
	rec := Read(sec)
	if rec.RefreshError != "Timeout" || rec.RefreshFailures != 2 || !rec.RefreshBackoffUntil.Equal(t0.Add(30*time.Second)) {
		t.Errorf("backoff = %q, %d, %v", rec.RefreshError, rec.RefreshFailures, rec.RefreshBackoffUntil)
	}
	if rec.State != StateActive || rec.AccessToken == "" || rec.RefreshToken == "" || !rec.Usable(t0) {
		t.Error("a transient failure touched the tokens or the state")
	}

	for _, state := range []State{StateReauthorizationRequired, StateClientInvalid} {
		sec := fresh()
		ApplyBackoff(sec, "HTTP 503", 1, t0.Add(10*time.Second))
		ApplyDead(sec, state, "invalid_grant")
		rec := Read(sec)
		_, hasAccess := sec.Data[KeyAccessToken]
		_, hasRefresh := sec.Data[KeyRefreshToken]
		if hasAccess || hasRefresh || rec.State != state || rec.RefreshError != "invalid_grant" || rec.RefreshFailures != 0 ||
			!rec.RefreshBackoffUntil.IsZero() || rec.Usable(t0) {
			t.Errorf("%s: %v, refresh error %q", state, rec, rec.RefreshError)
		}
	}

	sec = fresh()
	delete(sec.Data, KeyRefreshToken)
	ApplyExpired(sec)
	if rec := Read(sec); rec.State != StateExpired || rec.AccessToken == "" {
		t.Errorf("expired: %v", rec)
	}
}

func TestMutationsOnABareSecret(_ *testing.T) {
	// A Secret without annotations or data must not panic.
	ApplyBackoff(&corev1.Secret{}, "x", 1, t0)
	ApplyDead(&corev1.Secret{}, StateReauthorizationRequired, "x")
	ApplyExpired(&corev1.Secret{})
	ApplyRefreshed(&corev1.Secret{}, Tokens{AccessToken: "at"}, t0)
	ApplyTokenEndpoint(&corev1.Secret{}, "https://as.example.com/token")
}

func TestApplyTokenEndpoint(t *testing.T) {
	sec := &corev1.Secret{}
	g := grant("rt-1", t0.Add(time.Hour))
	g.TokenEndpoint = "" // written before token endpoints were recorded
	WriteGrant(sec, testServer(), g)
	if _, ok := sec.Data[KeyTokenEndpoint]; ok || Read(sec).TokenEndpoint != "" {
		t.Fatalf("an unknown token endpoint was recorded: %q", sec.Data[KeyTokenEndpoint])
	}
	ApplyTokenEndpoint(sec, "https://as.example.com/oauth/token")
	if got := Read(sec).TokenEndpoint; got != "https://as.example.com/oauth/token" {
		t.Errorf("token endpoint %q after ApplyTokenEndpoint", got)
	}
	ApplyTokenEndpoint(sec, "")
	if got := Read(sec).TokenEndpoint; got != "https://as.example.com/oauth/token" {
		t.Errorf("an empty token endpoint replaced the recorded one: %q", got)
	}
}

func TestBelongsTo(t *testing.T) {
	sec := &corev1.Secret{}
	WriteGrant(sec, testServer(), grant("rt", time.Time{}))
	if !BelongsTo(sec, "alice@example.com") {
		t.Error("the user's own Secret does not belong to them")
	}
	if BelongsTo(sec, "mallory") {
		t.Error("another user's Secret belongs to mallory")
	}
	sec.Type = corev1.SecretTypeOpaque
	if BelongsTo(sec, "alice@example.com") {
		t.Error("a Secret of another type counts as a token Secret")
	}
}

func TestStringHidesTokens(t *testing.T) {
	sec := &corev1.Secret{}
	WriteGrant(sec, testServer(), grant("rt-secret-value", t0))
	sec.Data[KeyAccessToken] = []byte("at-secret-value")
	rec := Read(sec)
	for _, s := range []string{fmt.Sprint(rec), fmt.Sprintf("%+v", rec), fmt.Sprintf("%#v", rec), fmt.Sprintf("%v", &rec)} {
		if strings.Contains(s, "secret-value") {
			t.Errorf("a token leaked: %s", s)
		}
	}
}

func TestClientInvalidSignal(t *testing.T) {
	srv := testServer()
	if ClientInvalid(srv) != "" {
		t.Fatal("a fresh MCPServer carries the signal")
	}
	patch := MarkClientInvalidPatch(srv, "client-1")
	var merge struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(patch, &merge); err != nil || len(merge.Metadata.Annotations) != 1 ||
		merge.Metadata.Annotations[mcpv1.AnnotationClientInvalid] != "client-1" {
		t.Fatalf("mark patch = %s (%v)", patch, err)
	}

	srv.Annotations = map[string]string{mcpv1.AnnotationClientInvalid: "client-1"}
	if ClientInvalid(srv) != "client-1" {
		t.Errorf("ClientInvalid = %q", ClientInvalid(srv))
	}
	if p := MarkClientInvalidPatch(srv, "client-1"); p != nil {
		t.Errorf("the signal is raised again for the same client: %s", p)
	}
	if p := MarkClientInvalidPatch(srv, "client-2"); p == nil {
		t.Error("a report for a newer client is dropped")
	}

	var ops []map[string]string
	if err := json.Unmarshal(ClearClientInvalidPatch("client-1"), &ops); err != nil {
		t.Fatal(err)
	}
	path := "/metadata/annotations/mcpoperator.io~1client-invalid"
	want := []map[string]string{{"op": "test", "path": path, "value": "client-1"}, {"op": "remove", "path": path}}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("clear patch = %v, want %v", ops, want)
	}
}

func TestRefreshFlooredNote(t *testing.T) {
	const why = "access token lifetime 1s is too short for the refresh schedule"
	fresh := func() *corev1.Secret {
		sec := &corev1.Secret{}
		WriteGrant(sec, testServer(), grant("rt-1", t0.Add(time.Second)))
		ApplyRefreshFloored(sec, why)
		return sec
	}
	if got := Read(fresh()).RefreshFloored; got != why {
		t.Fatalf("RefreshFloored = %q, want %q", got, why)
	}

	sec := fresh()
	ApplyRefreshed(sec, Tokens{AccessToken: "at-2", RefreshToken: "rt-2", Expiry: t0.Add(2 * time.Second)}, t0.Add(time.Second))
	ApplyBackoff(sec, "HTTP 503", 1, t0.Add(time.Minute))
	if Read(sec).RefreshFloored != why {
		t.Error("a refresh or a backoff dropped the note: every floored refresh would need a second write to restore it")
	}
	ApplyRefreshFloored(sec, "")
	if _, ok := sec.Annotations[AnnotationRefreshFloored]; ok {
		t.Error("an empty note did not remove the annotation")
	}

	for name, end := range map[string]func(*corev1.Secret){
		"dead":      func(s *corev1.Secret) { ApplyDead(s, StateReauthorizationRequired, "invalid_grant") },
		"expired":   ApplyExpired,
		"reconnect": func(s *corev1.Secret) { WriteGrant(s, testServer(), grant("rt-3", t0.Add(time.Hour))) },
	} {
		sec := fresh()
		end(sec)
		if _, ok := sec.Annotations[AnnotationRefreshFloored]; ok {
			t.Errorf("%s: the note outlived the token it was about", name)
		}
	}
	ApplyRefreshFloored(&corev1.Secret{}, why) // a bare Secret must not panic
	ApplyRefreshFloored(&corev1.Secret{}, "")
}

// TestControlledBy: only a Secret WriteGrant wrote for this very MCPServer
// counts as the server's; every look-alike does not.
func TestControlledBy(t *testing.T) {
	srv := testServer()
	written := func() *corev1.Secret {
		sec := &corev1.Secret{}
		WriteGrant(sec, srv, grant("rt-1", t0.Add(time.Hour)))
		return sec
	}
	if !ControlledBy(written(), srv) {
		t.Fatal("a Secret written by WriteGrant is not controlled by its server")
	}
	for name, change := range map[string]func(*corev1.Secret){
		"no owner reference": func(s *corev1.Secret) { s.OwnerReferences = nil },
		"a non-controller owner reference": func(s *corev1.Secret) {
			s.OwnerReferences[0].Controller = nil
		},
		"a controller reference to an earlier server of the same name": func(s *corev1.Secret) {
			s.OwnerReferences[0].UID = "uid-0"
		},
		"a controller reference to another server": func(s *corev1.Secret) {
			s.OwnerReferences[0].Name, s.OwnerReferences[0].UID = "linear", "uid-2"
		},
		"a controller reference of another kind with the server's UID": func(s *corev1.Secret) {
			s.OwnerReferences[0].Kind = "ConfigMap"
		},
		"a controller reference of another group": func(s *corev1.Secret) {
			s.OwnerReferences[0].APIVersion = "example.com/v1"
		},
		"labelled for another server": func(s *corev1.Secret) { s.Labels[mcpv1.LabelServer] = "linear" },
		"no server label":             func(s *corev1.Secret) { delete(s.Labels, mcpv1.LabelServer) },
		"in another namespace":        func(s *corev1.Secret) { s.Namespace = "other" },
	} {
		t.Run(name, func(t *testing.T) {
			sec := written()
			change(sec)
			if ControlledBy(sec, srv) {
				t.Error("a look-alike counts as controlled by the server")
			}
		})
	}
	if ControlledBy(written(), &mcpv1.MCPServer{ObjectMeta: metav1.ObjectMeta{Namespace: "chat", Name: "github"}}) {
		t.Error("a server without a UID (not read from the API) controls a Secret")
	}
}
