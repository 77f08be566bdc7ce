package fakeauth

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
)

// maxBody caps request bodies the fake reads.
const maxBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError writes an RFC 6749 §5.2 style error.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	writeJSON(w, status, body)
}

// newSecret returns a random opaque value with a readable prefix.
func newSecret(prefix string) string { return prefix + rand.Text() }

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "method not allowed")
}
