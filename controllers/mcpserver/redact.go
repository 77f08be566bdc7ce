package mcpserver

import "net/url"

// redactURL drops user info, query and fragment, which may carry secrets,
// before a URL reaches a condition, event or log line.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
