package oauth

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// ClientMetadataDocument returns the Client ID Metadata Document to serve at
// clientIDURL: the client Register promises when it chooses CIMD (a public
// client: token_endpoint_auth_method none).
func ClientMetadataDocument(clientIDURL, clientName, redirectURI string, scopes []string) []byte {
	doc := struct {
		ClientID string `json:"client_id"`
		oauthex.ClientRegistrationMetadata
	}{
		ClientID: clientIDURL,
		ClientRegistrationMetadata: oauthex.ClientRegistrationMetadata{
			ClientName:              clientName,
			RedirectURIs:            []string{redirectURI},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			TokenEndpointAuthMethod: AuthMethodNone,
			Scope:                   JoinScopes(scopes),
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // strings and string slices always marshal
	}
	return b
}
