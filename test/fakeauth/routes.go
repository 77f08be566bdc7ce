package fakeauth

// addASRoutes mounts the authorization server under the issuer path.
func (s *Server) addASRoutes(rt *router) {
	p := s.opts.IssuerPath
	s.addMetadataRoutes(rt)
	rt.handle(p+"/authorize", s.endpoint(EndpointAuthorize, s.handleAuthorize))
	rt.handle(p+"/token", s.endpoint(EndpointToken, s.handleToken))
	rt.handle(p+"/revoke", s.endpoint(EndpointRevoke, s.handleRevoke))
	if !s.opts.DisableDCR {
		rt.handle(p+"/register", s.endpoint(EndpointRegister, s.handleRegister))
		rt.prefix = p + "/register/"
		rt.byPrefix = s.endpoint(EndpointRegistration, s.handleRegistration)
	}
}

// addMCPRoutes mounts the protected resource: PRM and the MCP endpoint.
func (s *Server) addMCPRoutes(rt *router) {
	s.addPRMRoutes(rt)
	rt.handle(s.opts.MCPPath, s.endpoint(EndpointMCP, s.mcpHandler().ServeHTTP))
}
