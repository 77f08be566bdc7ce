package callback

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzCookieKey is the flow cookie key of FuzzFlowCookie; the committed
// corpus (testdata/fuzz/FuzzFlowCookie) holds cookies sealed with it for
// fuzzKnownFlows.
const fuzzCookieKey = "fuzz-flow-cookie-key-0123456789abcdef"

// fuzzCookieName is a flow cookie's name as the server sets it on https.
const fuzzCookieName = "__Host-mcp-flow.chat.github"

// fuzzNow is FuzzFlowCookie's clock: fixed, so that committed cookies stay
// unexpired.
var fuzzNow = time.Unix(1_800_000_000, 0)

// fuzzKnownFlows are the only flows ever sealed with fuzzCookieKey for
// FuzzFlowCookie's arbitrary values: a cookie that opens must be one of them.
var fuzzKnownFlows = []flow{
	{User: "alice", Namespace: "chat", Name: "github", Verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		State: "af0ifjsldkj-Qm9keS1zdGF0ZQ", Issuer: "https://github.com/login/oauth", Scopes: []string{"repo", "read:org"},
		ReturnTo: "https://chat.example.com/settings?tab=connections", Expiry: fuzzNow.Add(flowTTL).Unix()},
	{User: "bob@example.com", Namespace: "team-a", Name: "linear", Verifier: "M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag",
		State: "xyzABC123-_", Issuer: "https://auth.example.com", Expiry: fuzzNow.Add(time.Minute).Unix()},
	{User: "carol", Namespace: "chat", Name: "github", Verifier: "v-expired", State: "s-expired",
		Issuer: "https://github.com/login/oauth", Expiry: fuzzNow.Add(-time.Second).Unix()},
}

// FuzzFlowCookie: the flow cookie sealer on arbitrary cookie values, and a
// seal → open round trip of a flow built from the other inputs.
//
// Properties: an arbitrary value opens only to one of the flows sealed
// with the key (never to anything else: no forgery), only for that flow's
// server and before its expiry, and to nothing under a key that sealed
// nothing; a refusal returns no flow. A sealed flow fits maxCookieBytes or
// is refused as too large, survives a Cookie header, opens to itself for
// its server until it expires, and not for any other server, with a
// flipped bit, truncated, or under another key; it does not show the user
// in clear text.
func FuzzFlowCookie(f *testing.F) {
	fs, err := newFlowSealer([][]byte{[]byte(fuzzCookieKey)})
	if err != nil {
		f.Fatal(err)
	}
	other, err := newFlowSealer([][]byte{[]byte(strings.Repeat("o", MinKeyBytes))})
	if err != nil {
		f.Fatal(err)
	}
	for i, kf := range fuzzKnownFlows {
		v, err := fs.seal(kf)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v, kf.Namespace, kf.Name, kf.User, kf.ReturnTo, strings.Join(kf.Scopes, " "), uint16(i*97))
	}
	f.Add("", "chat", "github", "", "", "", uint16(0))
	f.Add("not base64 !", "ns\x00x", "y", "user\xff", "https://chat.example.com/\u2028", "a  b\tc", uint16(65535))
	f.Add(strings.Repeat("A", 39), "chat", "github", strings.Repeat("u", 3000), "", "", uint16(1))

	f.Fuzz(func(t *testing.T, value, namespace, name, user, returnTo, scopes string, tamper uint16) {
		// An arbitrary value, as the callback reads it from the request.
		r := &http.Request{Header: http.Header{"Cookie": {fuzzCookieName + "=" + value}}}
		if c, err := r.Cookie(fuzzCookieName); err == nil {
			checkOpenArbitrary(t, fs, c.Value, namespace, name)
			if got, err := other.open(c.Value, namespace, name, fuzzNow); err == nil {
				t.Fatalf("a key that sealed nothing opened %q to %+v", c.Value, got)
			}
		}
		checkOpenArbitrary(t, fs, value, namespace, name)

		// Round trip.
		want := flow{User: user, Namespace: namespace, Name: name, Verifier: "fuzz-verifier-" + user, State: "fuzz-state",
			Issuer: "https://auth.example.com", Scopes: strings.Fields(scopes), ReturnTo: returnTo, Expiry: fuzzNow.Add(flowTTL).Unix(),
			Confirmed: tamper&1 == 1, ByHeader: tamper&2 == 2}
		rest, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		// The sealed plaintext: the user ID, length first, then the JSON.
		plain := append(append(binary.AppendUvarint(nil, uint64(len(user))), user...), rest...)
		sealed, err := fs.seal(want)
		if err != nil {
			if n := base64.RawURLEncoding.EncodedLen(12 + len(plain) + 16); n <= maxCookieBytes {
				t.Fatalf("a %d-byte cookie was refused: %v", n, err)
			}
			return
		}
		if len(sealed) > maxCookieBytes {
			t.Fatalf("sealed cookie has %d bytes, more than %d", len(sealed), maxCookieBytes)
		}
		if len(user) >= 16 && strings.Contains(sealed, user) {
			t.Fatalf("the sealed cookie shows the user %q", user)
		}
		r = &http.Request{Header: http.Header{"Cookie": {"other=1; " + fuzzCookieName + "=" + sealed}}}
		if c, err := r.Cookie(fuzzCookieName); err != nil || c.Value != sealed {
			t.Fatalf("the sealed cookie does not survive a Cookie header: %v", err)
		}
		// What open may give back: the flow after its JSON round trip
		// (invalid UTF-8 becomes U+FFFD), but for the user ID.
		// The user ID is sealed as raw bytes and comes back as it was.
		var norm flow
		if err := json.Unmarshal(rest, &norm); err != nil {
			t.Fatal(err)
		}
		norm.User = user
		got, err := fs.open(sealed, namespace, name, fuzzNow)
		switch {
		case norm.Namespace != namespace || norm.Name != name:
			// The server does not survive JSON: the cookie is for no server.
			if err == nil {
				t.Fatalf("opened for %q/%q a cookie sealed for %q/%q", namespace, name, norm.Namespace, norm.Name)
			}
		case err != nil:
			t.Fatalf("open(seal(flow)) failed: %v", err)
		case !reflect.DeepEqual(got, norm):
			t.Fatalf("open(seal(%+v)) = %+v", norm, got)
		}
		_, err = fs.open(sealed, namespace, name, time.Unix(want.Expiry, 0))
		if err == nil || (norm.Namespace == namespace && norm.Name == name && !errors.Is(err, errFlowExpired)) {
			t.Fatalf("an expired cookie: %v, want %v", err, errFlowExpired)
		}
		for _, srv := range [][2]string{{namespace, name + "x"}, {namespace + "x", name}, {name, namespace},
			{namespace + "\x00" + name, ""}, {"", namespace + "\x00" + name}, {namespace + "\x00", name}, {namespace, "\x00" + name}} {
			if srv[0] == namespace && srv[1] == name {
				continue
			}
			if got, err := fs.open(sealed, srv[0], srv[1], fuzzNow); err == nil {
				t.Fatalf("the cookie of %q/%q opened for %q/%q: %+v", namespace, name, srv[0], srv[1], got)
			}
		}
		if _, err := other.open(sealed, namespace, name, fuzzNow); err == nil {
			t.Fatal("the cookie opened under another key")
		}
		raw, err := base64.RawURLEncoding.DecodeString(sealed)
		if err != nil {
			t.Fatal(err)
		}
		bit := int(tamper) % (len(raw) * 8)
		raw[bit/8] ^= 1 << (bit % 8)
		if got, err := fs.open(base64.RawURLEncoding.EncodeToString(raw), namespace, name, fuzzNow); err == nil {
			t.Fatalf("the cookie with bit %d flipped opened: %+v", bit, got)
		}
		if got, err := fs.open(sealed[:int(tamper)%len(sealed)], namespace, name, fuzzNow); err == nil {
			t.Fatalf("the cookie cut to %d bytes opened: %+v", int(tamper)%len(sealed), got)
		}
	})
}

// checkOpenArbitrary opens a cookie value nobody vouches for: it may only
// open to a known flow, for its server, unexpired; a refusal gives no flow.
func checkOpenArbitrary(t *testing.T, fs *flowSealer, value, namespace, name string) {
	t.Helper()
	got, err := fs.open(value, namespace, name, fuzzNow)
	if err != nil {
		if !reflect.DeepEqual(got, flow{}) {
			t.Fatalf("open failed (%v) but returned %+v", err, got)
		}
		return
	}
	for _, kf := range fuzzKnownFlows {
		if reflect.DeepEqual(got, kf) {
			if kf.Namespace != namespace || kf.Name != name || fuzzNow.Unix() >= kf.Expiry {
				t.Fatalf("the flow of %q/%q (expiry %d) opened for %q/%q at %d", kf.Namespace, kf.Name, kf.Expiry, namespace, name, fuzzNow.Unix())
			}
			return
		}
	}
	t.Fatalf("forged cookie %q opened to %+v", value, got)
}
