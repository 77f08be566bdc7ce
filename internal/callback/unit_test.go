package callback

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/golang-jwt/jwt/v5"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

func TestFlowCookieSealing(t *testing.T) {
	fs, err := newFlowSealer([][]byte{[]byte(strings.Repeat("k", MinKeyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f := flow{User: "alice", Namespace: "chat", Name: "github", Verifier: "v", State: "s", Expiry: now.Add(flowTTL).Unix()}
	sealed, err := fs.seal(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "alice") {
		t.Error("the sealed cookie shows the user in clear text")
	}
	if got, err := fs.open(sealed, "chat", "github", now); err != nil || got.User != "alice" {
		t.Errorf("open = %+v, %v", got, err)
	}
	if _, err := fs.open(sealed, "chat", "other", now); !errors.Is(err, errFlowOtherServer) {
		t.Errorf("another server's callback opened the cookie: %v", err)
	}
	if _, err := fs.open(sealed, "chat", "github", now.Add(flowTTL)); !errors.Is(err, errFlowExpired) {
		t.Errorf("an expired cookie opened: %v", err)
	}
	other, _ := newFlowSealer([][]byte{[]byte(strings.Repeat("x", MinKeyBytes))})
	if _, err := other.open(sealed, "chat", "github", now); !errors.Is(err, errFlowInvalid) {
		t.Errorf("a cookie sealed with another key opened: %v", err)
	}
	if _, err := newFlowSealer([][]byte{[]byte("short")}); err == nil {
		t.Error("a short cookie key was accepted")
	}
	// A rotation: the new key first seals, the old one still opens the
	// cookies of sign-ins started before; once the old key is dropped they
	// no longer open.
	rotated, err := newFlowSealer([][]byte{[]byte(strings.Repeat("n", MinKeyBytes)), []byte(strings.Repeat("k", MinKeyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.open(sealed, "chat", "github", now); err != nil || got.User != "alice" {
		t.Errorf("a cookie of the previous key did not open during the rotation: %+v, %v", got, err)
	}
	fresh, err := rotated.seal(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.open(fresh, "chat", "github", now); !errors.Is(err, errFlowInvalid) {
		t.Errorf("the rotation sealed with the old key, not the first: %v", err)
	}
	newOnly, _ := newFlowSealer([][]byte{[]byte(strings.Repeat("n", MinKeyBytes))})
	if _, err := newOnly.open(fresh, "chat", "github", now); err != nil {
		t.Errorf("the new key alone does not open what the rotation sealed: %v", err)
	}
	// Authentic but malformed (only a key holder could make these): a user
	// ID running past the end, a truncated length, no JSON after the user.
	for _, plain := range []string{"\x64ab{}", "\x80", "\x01a"} {
		nonce := make([]byte, fs.aeads[0].NonceSize())
		_, _ = rand.Read(nonce)
		v := base64.RawURLEncoding.EncodeToString(fs.aeads[0].Seal(nonce, nonce, []byte(plain), nil))
		if _, err := fs.open(v, "chat", "github", now); !errors.Is(err, errFlowInvalid) {
			t.Errorf("plaintext %q opened: %v", plain, err)
		}
	}
}

// TestFlowCookieFitsTheLongestUserID: a user ID of mcpauth.MaxUserIDBytes
// made of the characters JSON escapes most seals beside the other fields
// at their largest fixed sizes (namespace and name of 63 characters) and a
// generous issuer, scope list and return_to, and comes back byte for byte.
func TestFlowCookieFitsTheLongestUserID(t *testing.T) {
	fs, err := newFlowSealer([][]byte{[]byte(strings.Repeat("k", MinKeyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	const escaped = "<&>\"\\\x00\u2028" // 9 bytes, 34 once escaped as JSON
	user := strings.Repeat(escaped, mcpauth.MaxUserIDBytes/len(escaped)) + strings.Repeat("x", mcpauth.MaxUserIDBytes%len(escaped))
	var scopes []string
	for i := range 8 {
		scopes = append(scopes, fmt.Sprintf("scope-%02d:%s", i, strings.Repeat("s", 11))) // 20 bytes each
	}
	now := time.Now()
	f := flow{
		User: user, Namespace: strings.Repeat("n", 63), Name: strings.Repeat("m", 63),
		Verifier: oauth.NewVerifier(), State: oauth.NewState(),
		Issuer:    "https://" + strings.Repeat("i", 92), // 100 bytes
		Scopes:    scopes,
		ReturnTo:  "https://chat.example.com/" + strings.Repeat("r", 125), // 150 bytes
		Expiry:    now.Add(flowTTL).Unix(),
		Confirmed: true,
		ByHeader:  true,
	}
	sealed, err := fs.seal(f)
	if err != nil {
		t.Fatalf("a %d-byte user ID does not fit: %v", len(user), err)
	}
	got, err := fs.open(sealed, f.Namespace, f.Name, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != user || !reflect.DeepEqual(got, f) {
		t.Error("the flow did not come back as sealed")
	}
}

func TestCheckReturnTo(t *testing.T) {
	origins, err := parseOrigins([]string{"https://chat.example.com/", "http://127.0.0.1:3000"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{returnOrig: origins}
	for _, ok := range []string{"", "https://chat.example.com/x?y=1", "https://CHAT.example.com", "http://127.0.0.1:3000/"} {
		if _, err := s.checkReturnTo(ok); err != nil {
			t.Errorf("checkReturnTo(%q) refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"https://evil.com", "//chat.example.com/x", "/x", "https://chat.example.com@evil.com/",
		"https://user@chat.example.com/", "http://chat.example.com/", "https://chat.example.com:444/", "javascript:alert(1)",
		"https:\\\\evil.com", "https://chat.example.com/\r\nx"} {
		if _, err := s.checkReturnTo(bad); err == nil {
			t.Errorf("checkReturnTo(%q) accepted", bad)
		}
	}
	if _, err := parseOrigins([]string{"https://chat.example.com/path"}); err == nil {
		t.Error("an origin with a path was accepted")
	}
}

func TestParseExtraScopes(t *testing.T) {
	if got, err := parseExtraScopes(" a  b a "); err != nil || strings.Join(got, " ") != "a b" {
		t.Errorf("parseExtraScopes = %v, %v", got, err)
	}
	var many []string
	for i := range 40 {
		many = append(many, "s"+strconv.Itoa(i))
	}
	for _, bad := range []string{`a"b`, "a\\b", "ü", strings.Join(many, " "), strings.Repeat("a", 2000)} {
		if _, err := parseExtraScopes(bad); err == nil {
			t.Errorf("parseExtraScopes(%q) accepted", bad)
		}
	}
}

// TestUsedOnce: a value is claimed once, also through another replica's
// store and under concurrent claims; expired entries are dropped; a full
// memory and a ConfigMap that is not ours refuse; no value is stored.
func TestUsedOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	cl := fake.NewClientBuilder().WithScheme(envtestutil.NewScheme()).Build()
	replica := func() *usedOnce {
		return &usedOnce{client: cl, namespace: "chat", now: func() time.Time { return now }}
	}
	a, b := replica(), replica()
	claim := func(u *usedOnce, kind, v string, exp time.Time) bool {
		t.Helper()
		fresh, err := u.claim(ctx, kind, v, exp)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !claim(a, usedTicket, "jti-1", now.Add(time.Minute)) {
		t.Fatal("a fresh value was refused")
	}
	if claim(a, usedTicket, "jti-1", now.Add(time.Minute)) || claim(b, usedTicket, "jti-1", now.Add(time.Minute)) {
		t.Error("a value was claimed twice")
	}
	if !claim(b, usedState, "jti-1", now.Add(time.Minute)) {
		t.Error("kinds share entries")
	}

	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			if fresh, err := []*usedOnce{a, b}[i%2].claim(ctx, usedTicket, "raced", now.Add(time.Minute)); err != nil {
				t.Error(err)
			} else if fresh {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d concurrent claims of one value succeeded, want 1", won.Load())
	}

	all := &corev1.ConfigMapList{}
	if err := cl.List(ctx, all, client.InNamespace("chat")); err != nil {
		t.Fatal(err)
	}
	for _, cm := range all.Items {
		if !slices.Contains(UsedOnceConfigMaps(), cm.Name) {
			t.Errorf("claims wrote ConfigMap %s, which the Role does not name", cm.Name)
		}
		for k, v := range cm.Data {
			if strings.Contains(k+v, "jti-1") || strings.Contains(k+v, "raced") {
				t.Errorf("entry %s=%s holds the value", k, v)
			}
		}
	}

	// Expired entries go when their ConfigMap is next written: claim a
	// value that lands in "raced"'s ConfigMap.
	_, shard := usedKey(usedTicket, "raced")
	inShard := func(prefix string) string {
		for i := 0; ; i++ {
			if _, s := usedKey(usedTicket, prefix+strconv.Itoa(i)); s == shard {
				return prefix + strconv.Itoa(i)
			}
		}
	}
	cm := &corev1.ConfigMap{}
	get := func() {
		t.Helper()
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "chat", Name: usedOnceConfigMap(shard)}, cm); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Minute) // every entry so far expired
	claim(a, usedTicket, inShard("later"), now.Add(time.Minute))
	get()
	if len(cm.Data) != 1 {
		t.Errorf("%d entries after expiry, want only the new one", len(cm.Data))
	}

	for i := range maxUsedOnce {
		cm.Data[fmt.Sprintf("ticket.%d", i)] = strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	}
	if err := cl.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := a.claim(ctx, usedTicket, inShard("one too many"), now.Add(time.Minute)); !errors.Is(err, errUsedOnceFull) {
		t.Errorf("a full memory answered %v", err)
	}

	cm.Labels = nil
	if err := cl.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := a.claim(ctx, usedTicket, inShard("not ours"), now.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "not managed by mcp-operator") {
		t.Errorf("a ConfigMap that is not ours answered %v", err)
	}
}

// TestConnectionsUseTheCodecsUsableRule: /connections answers "connected?"
// with tokensecret's Record.Usable, the rule the connected-users count uses
// (see controllers' TestConnectedUsersCountUsesTheCodecsUsableRule, same
// fixtures): an Active Secret whose access token expired and that has no
// refresh token is not connected, even before the refresher marks it Expired.
func TestConnectionsUseTheCodecsUsableRule(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	srv := &mcpv1.MCPServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: "chat", Name: "github", UID: "uid-1"},
		Spec:       mcpv1.MCPServerSpec{DisplayName: "GitHub", Auth: mcpv1.Auth{Type: mcpv1.AuthTypeOAuth2}},
	}
	token := func(user, refresh string, expiry time.Time) *corev1.Secret {
		sec := &corev1.Secret{}
		tokensecret.WriteGrant(sec, srv, tokensecret.Grant{User: user, IssuedAt: expiry.Add(-time.Hour),
			Tokens: tokensecret.Tokens{AccessToken: "at-" + user, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}})
		return sec
	}
	cases := []struct {
		user, refresh string
		expiry        time.Time
		want          bool
	}{
		{"expired-no-refresh", "", now.Add(-time.Second), false},
		{"expired-with-refresh", "rt", now.Add(-time.Second), true},
		{"live-no-refresh", "", now.Add(time.Minute), true},
	}
	scheme := envtestutil.NewScheme()
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(srv)
	for _, tc := range cases {
		b = b.WithObjects(token(tc.user, tc.refresh, tc.expiry))
	}
	s := &Server{opts: Options{Client: b.Build(), Now: func() time.Time { return now }}}
	for _, tc := range cases {
		c, err := s.connection(context.Background(), srv, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if c.Connected != tc.want {
			t.Errorf("%s: connected = %v, want %v", tc.user, c.Connected, tc.want)
		}
		if c.State != string(tokensecret.StateActive) || c.Expiry == nil || !c.Expiry.Equal(tc.expiry) {
			t.Errorf("%s: state %q, expiry %v", tc.user, c.State, c.Expiry)
		}
	}
}

// TestRoleNamesTheUsedOnceConfigMaps: the shipped Role grants get and
// update on exactly the ConfigMaps the server writes.
func TestRoleNamesTheUsedOnceConfigMaps(t *testing.T) {
	role, err := os.ReadFile("../../config/callback/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(UsedOnceConfigMaps(), ", ")
	want := "  resources: [configmaps]\n  resourceNames: [" + names + "]\n  verbs: [get, update]\n"
	if !strings.Contains(string(role), want) {
		t.Errorf("config/callback/role.yaml does not grant get and update on ConfigMaps %s", names)
	}
}

// TestTicketKeyRotation: during a rotation a ticket signed with the old key
// or the new one is accepted; a key that signed it decides the error.
func TestTicketKeyRotation(t *testing.T) {
	oldKey, newKey := []byte(strings.Repeat("o", MinKeyBytes)), []byte(strings.Repeat("n", MinKeyBytes))
	s := &Server{opts: Options{TicketKeys: [][]byte{newKey, oldKey}}}
	mint := func(key []byte, ttl time.Duration) string {
		raw, err := mcpauth.MintTicket(key, mcpauth.Ticket{User: "alice", AnyServer: true, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for name, key := range map[string][]byte{"old": oldKey, "new": newKey} {
		if got, err := s.verifyTicket(mint(key, time.Minute)); err != nil || got.User != "alice" {
			t.Errorf("a ticket of the %s key: %+v, %v", name, got, err)
		}
	}
	if _, err := s.verifyTicket(mint([]byte(strings.Repeat("x", MinKeyBytes)), time.Minute)); !errors.Is(err, mcpauth.ErrTicketInvalid) {
		t.Errorf("a ticket of an unknown key: %v, want invalid", err)
	}
	hourAgo := time.Now().Add(-time.Hour)
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "alice",
		Audience: jwt.ClaimStrings{mcpauth.TicketAudience}, IssuedAt: jwt.NewNumericDate(hourAgo),
		ExpiresAt: jwt.NewNumericDate(hourAgo.Add(time.Minute))}).SignedString(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.verifyTicket(expired); !errors.Is(err, mcpauth.ErrTicketExpired) {
		t.Errorf("an expired ticket of the old key: %v, want expired", err)
	}
	s.opts.TicketKeys = [][]byte{newKey}
	if _, err := s.verifyTicket(mint(oldKey, time.Minute)); !errors.Is(err, mcpauth.ErrTicketInvalid) {
		t.Errorf("once the old key is dropped its tickets still pass: %v", err)
	}
}
