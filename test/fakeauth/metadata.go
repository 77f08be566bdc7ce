package fakeauth

import (
	"encoding/json"
	"net/http"
	"slices"
)

const (
	prmWellKnown   = "/.well-known/oauth-protected-resource"
	asWellKnown    = "/.well-known/oauth-authorization-server"
	oidcWellKnown  = "/.well-known/openid-configuration"
	prmHeaderOnly  = "/prm" // PRMHeaderOnly: served at /prm{mcpPath}
	wrongIssuerURL = "http://wrong-issuer.invalid"
	wrongResource  = "http://wrong-resource.invalid/mcp"
)

// prmPathURL is the path-suffixed well-known PRM URL (RFC 9728 §3.1).
func (s *Server) prmPathURL() string {
	if s.opts.MCPPath == "/" {
		return s.mcpBase + prmWellKnown
	}
	return s.mcpBase + prmWellKnown + s.opts.MCPPath
}

// challengePRMURL is the resource_metadata of the 401 challenge, if any.
func (s *Server) challengePRMURL() string {
	switch s.opts.PRM {
	case PRMPathAndRoot:
		return s.prmPathURL()
	case PRMHeaderOnly:
		return s.mcpBase + prmHeaderOnly + s.opts.MCPPath
	}
	return ""
}

// resourceScopes are the PRM scopes_supported.
func (s *Server) resourceScopes() []string {
	return appendNew(append([]string(nil), s.opts.Scopes...), s.opts.StepUpScope)
}

// asScopes are the AS scopes_supported.
func (s *Server) asScopes() []string {
	sc := s.resourceScopes()
	if s.opts.OfflineAccess {
		sc = appendNew(sc, "offline_access")
	}
	return sc
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// addPRMRoutes publishes protected resource metadata per Options.PRM.
func (s *Server) addPRMRoutes(rt *router) {
	h := s.endpoint(EndpointPRM, s.handlePRM)
	switch s.opts.PRM {
	case PRMPathAndRoot:
		rt.handle(prmWellKnown, h)
		rt.handle(prmWellKnown+s.opts.MCPPath, h)
	case PRMRootOnly:
		rt.handle(prmWellKnown, h)
	case PRMHeaderOnly:
		rt.handle(prmHeaderOnly+s.opts.MCPPath, h)
	}
}

func (s *Server) handlePRM(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	f := s.currentFault()
	doc := map[string]any{
		"resource":                 s.MCPURL(),
		"authorization_servers":    append(slices.Clone(s.opts.OtherAuthorizationServers), s.issuer),
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "fakeauth MCP server",
	}
	if f.WrongResource {
		doc["resource"] = wrongResource
	}
	if sc := s.resourceScopes(); len(sc) > 0 {
		doc["scopes_supported"] = sc
	}
	s.writeMetadata(w, f, doc)
}

// addMetadataRoutes publishes AS metadata per Options.Metadata.
func (s *Server) addMetadataRoutes(rt *router) {
	p := s.opts.IssuerPath
	if s.opts.Metadata == MetadataBoth || s.opts.Metadata == MetadataRFC8414 {
		rt.handle(asWellKnown+p, s.endpoint(EndpointMetadata, s.metadataHandler(false)))
	}
	if s.opts.Metadata == MetadataBoth || s.opts.Metadata == MetadataOIDC {
		h := s.endpoint(EndpointMetadata, s.metadataHandler(true))
		rt.handle(oidcWellKnown+p, h)
		rt.handle(p+oidcWellKnown, h)
		rt.handle(s.opts.IssuerPath+"/jwks", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
		}))
	}
}

func (s *Server) metadataHandler(oidc bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		f := s.currentFault()
		s.writeMetadata(w, f, s.asMetadata(f, oidc))
	}
}

func (s *Server) asMetadata(f Fault, oidc bool) map[string]any {
	e := s.Endpoints()
	doc := map[string]any{
		"issuer":                                     e.Issuer,
		"authorization_endpoint":                     e.Authorization,
		"token_endpoint":                             e.Token,
		"revocation_endpoint":                        e.Revocation,
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      authMethods,
		"revocation_endpoint_auth_methods_supported": authMethods,
	}
	if e.Registration != "" && !f.NoRegistrationEndpoint {
		doc["registration_endpoint"] = e.Registration
	}
	if sc := s.asScopes(); len(sc) > 0 {
		doc["scopes_supported"] = sc
	}
	if s.opts.CIMD {
		doc["client_id_metadata_document_supported"] = true
	}
	if s.opts.ISSParameter {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	if oidc {
		doc["subject_types_supported"] = []string{"public"}
		doc["id_token_signing_alg_values_supported"] = []string{"RS256"}
		doc["jwks_uri"] = s.issuer + "/jwks"
	}
	if f.WrongIssuer {
		doc["issuer"] = wrongIssuerURL + s.opts.IssuerPath
	}
	if f.NoPKCE {
		delete(doc, "code_challenge_methods_supported")
	}
	return doc
}

func (s *Server) writeMetadata(w http.ResponseWriter, f Fault, doc map[string]any) {
	body, _ := json.Marshal(doc)
	ct := "application/json"
	if f.DuplicateContentType {
		ct = "application/json, application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
