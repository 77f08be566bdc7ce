package fakeauth

import "net/http"

// Counters count requests per endpoint kind and notable events. Every request
// is counted when it arrives, whether it then succeeds, fails or is faulted.
type Counters struct {
	PRM                int // PRM documents requested (any location)
	PRMRoot            int // of which at the root well-known URL
	ASMetadata         int // RFC 8414 and OIDC discovery documents
	Register           int // RFC 7591 registrations
	RegistrationRead   int // RFC 7592 GET
	RegistrationDelete int // RFC 7592 DELETE
	RegistrationUpdate int // RFC 7592 PUT
	Authorize          int
	TokenCode          int // token requests with grant_type=authorization_code
	TokenRefresh       int // token requests with grant_type=refresh_token
	TokenOther         int // token requests with any other or no grant_type
	TokenErrors        int // token responses that were errors
	Revoke             int
	MCP                int // requests to the MCP endpoint
	MCPUnauthorized    int // of which answered 401
	MCPForbidden       int // of which answered 403 insufficient_scope
	MCPLegacyRefused   int // of which refused as not MCP 2026-07-28 (ModernOnly)
	ToolCalls          int // tools/call handled by the MCP server
	ReuseDetected      int // replayed rotated refresh tokens (grant revoked)
	CodeReplayed       int // authorization codes redeemed twice (grant revoked)
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.counters
}

// ResetCounters sets every counter to zero.
func (s *Server) ResetCounters() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.counters = Counters{}
}

func (s *Server) bump(f func(c *Counters)) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	f(&s.counters)
}

// count records an arriving request for endpoint kind e.
func (s *Server) count(e Endpoint, r *http.Request) {
	var grantType string
	if e == EndpointToken && r.Method == http.MethodPost {
		_ = r.ParseForm() // idempotent; the handler reads r.PostForm again
		grantType = r.PostForm.Get("grant_type")
	}
	s.bump(func(c *Counters) {
		switch e {
		case EndpointPRM:
			c.PRM++
			if r.URL.Path == prmWellKnown {
				c.PRMRoot++
			}
		case EndpointMetadata:
			c.ASMetadata++
		case EndpointRegister:
			c.Register++
		case EndpointRegistration:
			switch r.Method {
			case http.MethodGet:
				c.RegistrationRead++
			case http.MethodDelete:
				c.RegistrationDelete++
			case http.MethodPut:
				c.RegistrationUpdate++
			}
		case EndpointAuthorize:
			c.Authorize++
		case EndpointToken:
			switch grantType {
			case "authorization_code":
				c.TokenCode++
			case "refresh_token":
				c.TokenRefresh++
			default:
				c.TokenOther++
			}
		case EndpointRevoke:
			c.Revoke++
		case EndpointMCP:
			c.MCP++
		}
	})
}
