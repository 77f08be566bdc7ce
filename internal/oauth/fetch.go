package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mcp-operator/mcp-operator/internal/redact"
)

// fetchStatus says what a metadata URL answered.
type fetchStatus int

const (
	fetchFound  fetchStatus = iota // 200 with a JSON document, decoded
	fetchAbsent                    // 4xx, or a non-JSON page (e.g. an HTML catch-all)
)

// getMetadata GETs a metadata document and decodes it into v.
//
// The Content-Type is treated leniently (servers send "application/json,
// application/json" or text/plain), the JSON strictly: a body that claims to
// be JSON, or starts like it, but does not decode is an error. A 4xx or an
// HTML page means "not here". Network errors, 5xx and 429 are transient
// errors; the caller must not fall back to other locations on them, since the
// document may well exist.
func getMetadata(ctx context.Context, c *http.Client, kind RequestKind, rawURL string, v any) (fetchStatus, error) {
	safe := redact.URL(rawURL)
	req, err := http.NewRequestWithContext(WithKind(ctx, kind), http.MethodGet, rawURL, nil)
	if err != nil {
		return fetchAbsent, &Error{Reason: ReasonDiscoveryFailed, URL: safe,
			Message: fmt.Sprintf("invalid metadata URL %s", safe), Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MCP-Protocol-Version", ProtocolVersion)
	resp, err := c.Do(req)
	if err != nil {
		return fetchAbsent, requestError(ReasonDiscoveryFailed, safe, "fetching metadata from", err)
	}
	defer drainClose(resp)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fetchAbsent, statusError(ReasonDiscoveryFailed, safe, "metadata request to", resp, nil)
	case resp.StatusCode != http.StatusOK:
		return fetchAbsent, nil
	}
	body, err := readBody(resp, ReasonDiscoveryFailed, safe)
	if err != nil {
		return fetchAbsent, err
	}
	return decodeMetadata(safe, resp.Header.Get("Content-Type"), body, v)
}

// decodeMetadata is getMetadata's decoding of a 200 answer, without I/O:
// a body that is not JSON and does not claim to be (an HTML catch-all page)
// is fetchAbsent, one that claims to be JSON and does not decode into v is
// an error. safeURL names the document in the error.
func decodeMetadata(safeURL, contentType string, body []byte, v any) (fetchStatus, error) {
	if err := json.Unmarshal(body, v); err != nil {
		if !claimsJSON(contentType, body) {
			return fetchAbsent, nil
		}
		return fetchAbsent, &Error{Reason: ReasonDiscoveryFailed, URL: safeURL,
			Message: fmt.Sprintf("metadata at %s is not a valid JSON object (%s); fix the server's document", safeURL, redact.Line(err.Error(), maxQuoted))}
	}
	return fetchFound, nil
}

// claimsJSON reports whether a body should have been JSON: a JSON-ish media
// type anywhere in the header, no media type at all, or a body that opens
// like a JSON object.
func claimsJSON(contentType string, body []byte) bool {
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		return true
	}
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	for _, part := range strings.Split(contentType, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return true
		}
	}
	return false
}

// readBody reads a capped response body, turning the size cap and read
// failures into *Error.
func readBody(resp *http.Response, reason Reason, safeURL string) ([]byte, error) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) {
			return nil, &Error{Reason: reason, URL: safeURL,
				Message: fmt.Sprintf("response from %s is larger than the %d-byte limit", safeURL, limitOf(resp)), Err: err}
		}
		return nil, &Error{Reason: reason, URL: safeURL, Transient: true,
			Message: fmt.Sprintf("reading the response from %s failed", safeURL), Err: err}
	}
	return body, nil
}

func limitOf(resp *http.Response) int64 {
	if lb, ok := resp.Body.(*limitedBody); ok {
		return lb.limit
	}
	return DefaultMaxBodyBytes
}

// drainClose discards a little of what is left so the connection can be
// reused, then closes the body.
func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}

// requestError classifies a failed client.Do: egress refusals pass through,
// network failures are transient.
func requestError(reason Reason, safeURL, doing string, err error) error {
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return &Error{Reason: reason, URL: safeURL, Transient: isNetworkError(err),
		Message: fmt.Sprintf("%s %s failed", doing, safeURL), Err: err}
}

// statusError describes an unexpected HTTP status. 5xx and 429 are transient.
// A short, truncated excerpt of the body is quoted, with secrets redacted.
func statusError(reason Reason, safeURL, what string, resp *http.Response, body []byte, secrets ...string) *Error {
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	}
	msg := fmt.Sprintf("%s %s answered HTTP %d", what, safeURL, resp.StatusCode)
	if q := quoteUpstream(upstreamErrorText(body), secrets...); q != "" {
		msg += ": " + q
	}
	return &Error{Reason: reason, URL: safeURL, Message: msg,
		Transient: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests}
}

// upstreamErrorText extracts "error: error_description" from an OAuth-style
// JSON error body, or returns the body itself.
func upstreamErrorText(body []byte) string {
	code, desc := oauthErrorFields(body)
	switch {
	case code == "":
		return string(body)
	case desc == "":
		return code
	}
	return code + ": " + desc
}

// oauthErrorFields decodes an RFC 6749 §5.2 style JSON error body.
func oauthErrorFields(body []byte) (code, description string) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error, e.Description
}
