package callback

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFlowCookieSealing(t *testing.T) {
	fs, err := newFlowSealer([]byte(strings.Repeat("k", MinKeyBytes)))
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
	if _, err := fs.open(sealed, "chat", "other", now); !errors.Is(err, errFlowInvalid) {
		t.Errorf("another server's callback opened the cookie: %v", err)
	}
	if _, err := fs.open(sealed, "chat", "github", now.Add(flowTTL)); !errors.Is(err, errFlowExpired) {
		t.Errorf("an expired cookie opened: %v", err)
	}
	other, _ := newFlowSealer([]byte(strings.Repeat("x", MinKeyBytes)))
	if _, err := other.open(sealed, "chat", "github", now); !errors.Is(err, errFlowInvalid) {
		t.Errorf("a cookie sealed with another key opened: %v", err)
	}
	if _, err := newFlowSealer([]byte("short")); err == nil {
		t.Error("a short cookie key was accepted")
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

func TestUsedStatesAreSingleUse(t *testing.T) {
	u := newUsedStates()
	now := time.Now()
	if !u.claim("s1", now.Add(time.Minute), now) || u.claim("s1", now.Add(time.Minute), now) {
		t.Error("a state was claimable twice or not at all")
	}
}
