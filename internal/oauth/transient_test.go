package oauth

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Only network-level failures are worth retrying: a certificate the trust
// roots reject, TLS spoken to a plain port or a redirect loop stay broken
// until someone changes something, however often they are retried.
func TestIsTransientClassifiesTransportFailures(t *testing.T) {
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler()) // its certificate is not in the client's roots
	defer tlsServer.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+r.URL.Path+"x", http.StatusFound) //nolint:gosec // G710: a redirect loop to this test server is the point
	}))
	defer loop.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	_ = closed.Close()

	quick := testPolicy
	quick.Timeout = 300 * time.Millisecond
	cases := []struct {
		name   string
		client *http.Client
		url    string
		want   bool
	}{
		{"untrusted certificate", testClient(), tlsServer.URL + "/x", false},
		{"TLS to a plain http port", testClient(), "https://" + plain.Listener.Addr().String() + "/x", false},
		{"redirect loop", testClient(), loop.URL + "/x", false},
		{"connection refused", testClient(), closedURL + "/x", true},
		{"timeout", NewHTTPClient(quick), hang.URL + "/x", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := getMetadata(context.Background(), tc.client, KindPRM, tc.url, &struct{}{})
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsTransient(err); got != tc.want {
				t.Fatalf("IsTransient = %v, want %v (err: %v)", got, tc.want, err)
			}
		})
	}
}
