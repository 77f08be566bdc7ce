package fakeauth

import (
	"net/http"
	"strings"
	"time"
)

// Endpoint names a kind of endpoint for faults and counters.
type Endpoint string

// Endpoint kinds.
const (
	EndpointAll          Endpoint = "*" // every endpoint
	EndpointPRM          Endpoint = "prm"
	EndpointMetadata     Endpoint = "metadata" // RFC 8414 and OIDC discovery
	EndpointRegister     Endpoint = "register" // RFC 7591
	EndpointRegistration Endpoint = "registration"
	EndpointAuthorize    Endpoint = "authorize"
	EndpointToken        Endpoint = "token"
	EndpointRevoke       Endpoint = "revoke"
	EndpointMCP          Endpoint = "mcp"
)

// HTTPFault changes how an endpoint answers.
type HTTPFault struct {
	// Status, when non-zero, answers with this status and a JSON
	// {"error":"server_error"} body instead of the real answer.
	Status int
	// Code replaces server_error as the error code of a Status answer, e.g.
	// 400 invalid_scope.
	Code string
	// HTML makes the Status answer an HTML page, as a WAF, a proxy or a
	// deploy in progress serves it.
	HTML bool
	// Delay waits this long before answering (aborted when the client goes
	// away or the Server closes).
	Delay time.Duration
	// Malformed answers 200 with a truncated JSON body.
	Malformed bool
	// Oversize answers 200 with a valid JSON body larger than 1 MiB.
	Oversize bool
	// Times limits the fault to the next n requests; 0 means until cleared.
	Times int
}

// Fault is the set of faults in effect. The zero value means none.
type Fault struct {
	// HTTP faults per endpoint kind; EndpointAll applies to every endpoint
	// without its own entry.
	HTTP map[Endpoint]HTTPFault

	// WrongIssuer serves AS metadata whose issuer differs from the issuer the
	// metadata URL was built from (RFC 8414 §3.3).
	WrongIssuer bool
	// NoPKCE omits code_challenge_methods_supported from AS metadata.
	NoPKCE bool
	// NoRegistrationEndpoint omits registration_endpoint from AS metadata.
	NoRegistrationEndpoint bool
	// WrongResource serves PRM whose resource is not the MCP URL (RFC 9728 §3.3).
	WrongResource bool
	// DuplicateContentType serves metadata as
	// "application/json, application/json", as seen in the wild.
	DuplicateContentType bool
	// WrongISS puts a different issuer in the iss authorization response
	// parameter (RFC 9207 mix-up).
	WrongISS bool
	// OmitISS leaves iss out of authorization responses even when advertised.
	OmitISS bool
}

// Failing is a shorthand for a Fault that answers status on the given endpoints.
func Failing(status int, endpoints ...Endpoint) Fault {
	f := Fault{HTTP: map[Endpoint]HTTPFault{}}
	for _, e := range endpoints {
		f.HTTP[e] = HTTPFault{Status: status}
	}
	return f
}

// SetFault replaces the faults in effect; SetFault(Fault{}) clears them.
func (s *Server) SetFault(f Fault) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	hf := make(map[Endpoint]HTTPFault, len(f.HTTP))
	s.remain = map[Endpoint]int{}
	for k, v := range f.HTTP {
		hf[k] = v
		if v.Times > 0 {
			s.remain[k] = v.Times
		}
	}
	f.HTTP = hf
	s.fault = f
}

// currentFault returns the faults in effect (HTTP map not to be modified).
func (s *Server) currentFault() Fault {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.fault
}

// takeHTTPFault returns the HTTP fault for endpoint e, consuming one use.
func (s *Server) takeHTTPFault(e Endpoint) (HTTPFault, bool) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	key := e
	hf, ok := s.fault.HTTP[e]
	if !ok {
		key = EndpointAll
		hf, ok = s.fault.HTTP[EndpointAll]
	}
	if !ok {
		return HTTPFault{}, false
	}
	if hf.Times > 0 {
		if s.remain[key] <= 0 {
			return HTTPFault{}, false
		}
		s.remain[key]--
	}
	return hf, true
}

// endpoint wraps h: it counts the call, then applies any HTTP fault.
func (s *Server) endpoint(e Endpoint, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(e, r)
		hf, ok := s.takeHTTPFault(e)
		if !ok {
			h(w, r)
			return
		}
		if !s.sleep(r, hf.Delay) {
			return
		}
		switch {
		case hf.Status != 0 && hf.HTML:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(hf.Status)
			_, _ = w.Write([]byte("<!doctype html><title>Forbidden</title><h1>Request blocked</h1>"))
		case hf.Status != 0:
			code := hf.Code
			if code == "" {
				code = "server_error"
			}
			writeJSON(w, hf.Status, map[string]string{"error": code, "error_description": "injected fault"})
		case hf.Malformed:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"issuer": "` + s.issuer + `", "authorization_endpoint": [`))
		case hf.Oversize:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"padding":"` + strings.Repeat("x", 1<<20+1024) + `"}`))
		default:
			h(w, r)
		}
	})
}
