package redact

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"query with an API key", "https://mcp.example.com/mcp?api_key=s3cr3t&x=1", "https://mcp.example.com/mcp"},
		{"user info", "https://alice:pa55w0rd@mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"user without password", "https://token@mcp.example.com/", "https://mcp.example.com/"},
		{"fragment", "https://as.example.com/cb#code=abc&state=xyz", "https://as.example.com/cb"},
		{"everything", "http://u:p@127.0.0.1:8080/a/b?code=abc#frag", "http://127.0.0.1:8080/a/b"},
		{"empty query kept out", "https://as.example.com/authorize?", "https://as.example.com/authorize"},
		{"escaped path kept", "https://h.example/a%2Fb?k=v", "https://h.example/a%2Fb"},
		{"opaque part dropped", "https:alice:pw@mcp.example.com/mcp?k=v", "https:"},
		{"opaque mailto", "mailto:alice@example.com", "mailto:"},
		{"relative path", "/callback/ns/name?code=abc", "/callback/ns/name"},
		{"unparseable", "http://user:pass@host/%zz?key=s3cr3t", InvalidURL},
		{"bad host", "http://[::1/x?key=s3cr3t", InvalidURL},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	secretURL := "https://alice:pw@mcp.example.com/mcp?api_key=s3cr3t#frag"
	transport := &url.Error{Op: "Post", URL: secretURL, Err: errors.New("dial tcp 10.0.0.1:443: connect: connection refused")}
	quoting := &url.Error{Op: "Get", URL: "https://as.example.com/cb?code=c0d3", Err: fmt.Errorf("redirect to https://as.example.com/cb?code=c0d3 refused")}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"no url.Error", errors.New("boom ?api_key=kept"), "boom ?api_key=kept"},
		{"bare url.Error", transport,
			`Post "https://mcp.example.com/mcp": dial tcp 10.0.0.1:443: connect: connection refused`},
		{"wrapped with %w", fmt.Errorf("initialize MCPServer default/echo: %w", transport),
			`initialize MCPServer default/echo: Post "https://mcp.example.com/mcp": dial tcp 10.0.0.1:443: connect: connection refused`},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", transport)),
			`a: b: Post "https://mcp.example.com/mcp": dial tcp 10.0.0.1:443: connect: connection refused`},
		{"joined", errors.Join(errors.New("first"), fmt.Errorf("second: %w", transport)),
			"first\nsecond: Post \"https://mcp.example.com/mcp\": dial tcp 10.0.0.1:443: connect: connection refused"},
		{"inner error repeats the URL", quoting,
			`Get "https://as.example.com/cb": redirect to https://as.example.com/cb refused`},
		{"URL without secrets untouched", &url.Error{Op: "Get", URL: "https://h.example/", Err: http.ErrHandlerTimeout},
			`Get "https://h.example/": ` + http.ErrHandlerTimeout.Error()},
		{"unparseable URL", &url.Error{Op: "Get", URL: "http://h/%zz?key=s3cr3t", Err: errors.New("invalid URL escape")},
			`Get "` + InvalidURL + `": invalid URL escape`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Error(tc.err)
			if got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			for _, leak := range []string{"s3cr3t", "c0d3", "alice", "frag"} {
				if strings.Contains(got, leak) {
					t.Errorf("Error() = %q leaks %q", got, leak)
				}
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"cut", "abcdef", 5, "abcd…"},
		{"n is 1", "abc", 1, "…"},
		{"n is 0", "abc", 0, ""},
		{"n negative", "abc", -3, ""},
		{"empty", "", 3, ""},
		{"multi-byte fits in runes, not bytes", "héllo", 5, "héllo"},
		{"two-byte runes", "ééééé", 3, "éé…"},
		{"three-byte runes", "日本語のテキスト", 4, "日本語…"},
		{"four-byte runes", "🙂🙂🙂🙂", 2, "🙂…"},
		{"mixed", "a日b本c語", 4, "a日b…"},
		{"invalid UTF-8 counts per byte", "ab\xffcd", 4, "ab\xff…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if tc.n >= 0 && utf8.RuneCountInString(got) > tc.n {
				t.Errorf("Truncate(%q, %d) = %q has %d runes, more than %d", tc.in, tc.n, got, utf8.RuneCountInString(got), tc.n)
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q split a rune", tc.in, tc.n, got)
			}
		})
	}
}

// TestTruncateBound checks the bound for every n over multi-byte input: the
// result never has more than n runes and never splits a rune.
func TestTruncateBound(t *testing.T) {
	s := strings.Repeat("aé日🙂", 40)
	for n := 0; n <= utf8.RuneCountInString(s)+2; n++ {
		got := Truncate(s, n)
		if c := utf8.RuneCountInString(got); c > n {
			t.Fatalf("Truncate(_, %d) has %d runes", n, c)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Truncate(_, %d) = %q is not valid UTF-8", n, got)
		}
		if n > 0 && n < utf8.RuneCountInString(s) && (utf8.RuneCountInString(got) != n || !strings.HasSuffix(got, Ellipsis)) {
			t.Fatalf("Truncate(_, %d) = %q: want exactly %d runes ending in the ellipsis", n, got, n)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"plain", "invalid_grant", 64, "invalid_grant"},
		{"newlines and tabs", "line one\nline two\ttab", 64, "line one line two tab"},
		{"C0, DEL and C1 controls", "a\x00b\x7fc\u0085d", 64, "a b c d"},
		{"surrounding space trimmed", " \r\n padded \n", 64, "padded"},
		{"cut after cleaning", "ab\ncdef", 5, "ab c…"},
		{"multi-byte cut", "ошибка сервера", 7, "ошибка…"},
		{"only controls", "\n\t\r", 10, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Line(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("Line(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if utf8.RuneCountInString(got) > tc.n {
				t.Errorf("Line(%q, %d) = %q is longer than %d runes", tc.in, tc.n, got, tc.n)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"none", "nothing to hide", nil, "nothing to hide"},
		{"replaced everywhere", "token abcd1234 and again abcd1234", []string{"abcd1234"}, "token [redacted] and again [redacted]"},
		{"query-escaped form", "refresh_token=a%2Fb%2Bc%3D", []string{"a/b+c="}, "refresh_token=[redacted]"},
		{"several", "id s3cr3t-A and s3cr3t-B", []string{"s3cr3t-A", "s3cr3t-B"}, "id [redacted] and [redacted]"},
		{"short secrets ignored", "a b abc", []string{"a", "abc", ""}, "a b abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Secrets(tc.in, tc.secrets...); got != tc.want {
				t.Errorf("Secrets(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
