package fakeauth_test

import (
	"fmt"
	"net/http"

	"github.com/mcp-operator/mcp-operator/test/fakeauth"
)

// A test starts a realistic fake, points the code under test at MCPURL, and
// asserts on Counters afterwards.
func ExampleNew() {
	s := fakeauth.New(fakeauth.Options{SeparateOrigins: true, IssuerPath: "/tenant1"})
	defer s.Close()

	resp, err := http.Post(s.MCPURL(), "application/json", nil)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate") != "")

	// Simulate a provider that is down for one token request.
	s.SetFault(fakeauth.Fault{HTTP: map[fakeauth.Endpoint]fakeauth.HTTPFault{
		fakeauth.EndpointToken: {Status: http.StatusServiceUnavailable, Times: 1},
	}})
	fmt.Println(s.Counters().MCPUnauthorized)
	// Output:
	// 401 true
	// 1
}
