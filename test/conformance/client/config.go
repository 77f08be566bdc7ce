package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
)

const (
	// redirectURI is where the "browser" would land; nothing listens there:
	// the client reads the code from the authorization endpoint's redirect.
	redirectURI = "http://localhost:3000/callback"
	// clientIDMetadataURL is the Client ID Metadata Document URL the suite
	// expects (its mock never fetches it).
	clientIDMetadataURL = "https://conformance-test.local/client-metadata.json"
	clientName          = "mcp-operator conformance client"
)

// config is what the suite tells the client.
type config struct {
	ServerURL       string
	ProtocolVersion string
	// PreRegistered is the client from MCP_CONFORMANCE_CONTEXT, if any.
	PreRegistered *oauth.Client
}

// conformanceContext is the part of MCP_CONFORMANCE_CONTEXT this client uses.
type conformanceContext struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Issuer       string `json:"issuer"`
}

func loadConfig(serverURL string) (config, error) {
	cfg := config{ServerURL: serverURL, ProtocolVersion: os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION")}
	raw := os.Getenv("MCP_CONFORMANCE_CONTEXT")
	if raw == "" {
		return cfg, nil
	}
	var cc conformanceContext
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		return cfg, fmt.Errorf("MCP_CONFORMANCE_CONTEXT is not a JSON object: %w", err)
	}
	if cc.ClientID != "" {
		cfg.PreRegistered = staticClient(cc.ClientID, cc.ClientSecret, cc.Issuer)
	}
	return cfg, nil
}

// staticClient is a pre-registered client, as spec.auth.oauth2.clientID (+
// clientSecretRef) gives the operator: Static, bound to its issuer, with
// no registered auth method (the library then uses client_secret_basic for
// a confidential client).
func staticClient(id, secret, issuer string) *oauth.Client {
	return &oauth.Client{ClientID: id, ClientSecret: secret, Method: oauth.MethodStatic, Issuer: issuer}
}
