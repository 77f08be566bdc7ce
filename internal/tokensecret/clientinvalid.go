package tokensecret

import (
	"encoding/json"
	"strings"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// The re-registration signal. When the authorization server answers
// invalid_client, the callback server (code exchange) and the refresher
// (refresh) record the rejected client ID in mcpv1.AnnotationClientInvalid
// on the MCPServer; its reconciler reads it, registers a new client (or
// reports a rejected static client) and clears it. These three functions
// are the signal's only encoding; callers send the patches with their own
// clients.

// ClientInvalid is the client ID the signal on srv names; "" when none.
func ClientInvalid(srv *mcpv1.MCPServer) string {
	return srv.Annotations[mcpv1.AnnotationClientInvalid]
}

// MarkClientInvalidPatch is the JSON merge patch (RFC 7386) that raises the
// signal for clientID, or nil when srv already carries it for that client
// (or clientID is empty: there is no client to report).
func MarkClientInvalidPatch(srv *mcpv1.MCPServer, clientID string) []byte {
	if ClientInvalid(srv) == clientID {
		return nil
	}
	return mustJSON(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{mcpv1.AnnotationClientInvalid: clientID},
	}})
}

// ClearClientInvalidPatch is the JSON patch (RFC 6902) that removes the
// signal only while it still names clientID (the value read before acting
// on it), so a report made meanwhile for another client is not lost.
func ClearClientInvalidPatch(clientID string) []byte {
	path := "/metadata/annotations/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(mcpv1.AnnotationClientInvalid)
	return mustJSON([]map[string]string{
		{"op": "test", "path": path, "value": clientID},
		{"op": "remove", "path": path},
	})
}

// mustJSON encodes maps and slices of strings, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("tokensecret: encoding a patch: " + err.Error())
	}
	return b
}
