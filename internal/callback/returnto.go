package callback

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

const maxReturnToBytes = 2048

// parseOrigins normalises --allowed-return-origins to scheme://host[:port].
func parseOrigins(list []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, raw := range list {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(strings.TrimSuffix(raw, "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.User != nil || u.RawQuery != "" {
			return nil, fmt.Errorf("allowed return origin %q must be scheme://host[:port], e.g. https://chat.example.com", raw)
		}
		out[origin(u)] = true
	}
	return out, nil
}

func origin(u *url.URL) string { return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) }

var errReturnTo = errors.New("return_to is not an allowed address: it must be an absolute URL on one of the --allowed-return-origins")

// checkReturnTo accepts only absolute URLs on an allowed origin, so the
// callback can never be used as an open redirect.
func (s *Server) checkReturnTo(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > maxReturnToBytes || strings.ContainsAny(raw, "\\\r\n\t") {
		return "", errReturnTo
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.User != nil || u.Opaque != "" || !s.returnOrig[origin(u)] {
		return "", errReturnTo
	}
	return u.String(), nil
}
