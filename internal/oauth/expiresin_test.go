package oauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// ExpiresIn carries the announced lifetime, so a caller with an injected
// clock does not depend on the wall clock at parse time.
func TestRefreshReportsExpiresIn(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`{"access_token":"at","expires_in":90}`:   90 * time.Second,
		`{"access_token":"at","expires_in":"30"}`: 30 * time.Second,
		`{"access_token":"at"}`:                   0,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		tok, err := Refresh(t.Context(), srv.Client(), FlowConfig{Endpoint: Endpoint{TokenEndpoint: srv.URL}}, "rt", "")
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if tok.ExpiresIn != want {
			t.Errorf("%s: ExpiresIn = %v, want %v", body, tok.ExpiresIn, want)
		}
	}
}
