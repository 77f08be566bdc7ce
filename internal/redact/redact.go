// Package redact makes text safe to show before it reaches a log line, an
// event, a condition, an error or a page: URLs lose their user info, query
// and fragment (which can carry tokens, codes or API keys), transport errors
// lose the query of the URL they quote, known secrets are replaced, and long
// text is cut on a rune boundary to a bound that includes the ellipsis.
//
// It imports only the standard library, so any package may use it.
package redact

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InvalidURL stands in for a URL that does not parse: its text might hold
// user info or a query that cannot be located reliably.
const InvalidURL = "<invalid URL>"

// Ellipsis marks text cut by Truncate. It is one rune.
const Ellipsis = "…"

// Secret replaces each secret found by Secrets.
const Secret = "[redacted]"

// URL returns raw without user info, query and fragment, keeping scheme,
// host and path. The opaque part of a URL without "//" ("https:user:pw@host")
// is dropped as well: it is no usable http URL and may hide credentials.
// Unparseable input gives InvalidURL.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return InvalidURL
	}
	u.User, u.Opaque = nil, ""
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// Error returns err's text with the URL of every *url.Error in its chain
// (wrapped with %w or joined) redacted by URL. The text is otherwise kept:
// the wrapping context, the operation ("Get", "Post"), the redacted URL and
// the inner error. A nil err gives "".
//
// A transport error from net/http quotes the full request URL, whose query
// can hold an API key, a code or a state; use Error instead of err.Error()
// whenever such an error may be shown.
func Error(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	for _, ue := range urlErrors(err) {
		if ue.URL == "" {
			continue
		}
		safe := URL(ue.URL)
		if safe == ue.URL {
			continue
		}
		// url.Error quotes the URL with %q; replace that form first, then
		// any bare occurrence (an inner error may repeat it).
		text = strings.ReplaceAll(text, strconv.Quote(ue.URL), strconv.Quote(safe))
		text = strings.ReplaceAll(text, ue.URL, safe)
	}
	return text
}

// urlErrors collects every *url.Error in err's tree.
func urlErrors(err error) []*url.Error {
	var out []*url.Error
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if ue, ok := e.(*url.Error); ok { //nolint:errorlint // walks the tree itself to collect every *url.Error, not just the first
				out = append(out, ue)
			}
			switch u := e.(type) { //nolint:errorlint // the walk unwraps by hand, one level at a time
			case interface{ Unwrap() []error }:
				for _, inner := range u.Unwrap() {
					walk(inner)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

// Truncate returns s cut to at most n runes, the Ellipsis it appends when it
// cuts included, so the result fits a field bounded to n characters (as a
// CRD's maxLength counts them). It never splits a UTF-8 sequence. n <= 0
// gives "".
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for range n - 1 { // n-1 runes, and the ellipsis
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return s[:cut] + Ellipsis
}

// Line prepares text from elsewhere (an upstream answer, a user's input) for
// one line of a message: control characters, newlines included, become
// spaces, surrounding space is trimmed, and the result is cut by Truncate to
// at most n runes.
func Line(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return Truncate(strings.TrimSpace(s), n)
}

// Secrets replaces every occurrence in s of each secret, and of its
// query-escaped form, with Secret. Secrets shorter than four bytes are
// ignored: replacing them would garble the text without protecting much.
func Secrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, Secret)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Secret)
		}
	}
	return s
}
