// Package logscan prepares captured logs for tests that assert no secret is
// logged: client-go dumps binary API bodies as hex, 16 bytes a line, so a
// secret in a dump is split across lines and a plain substring search
// misses it.
package logscan

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// hexDumpASCII matches one line of a hex dump and captures its ASCII column.
var hexDumpASCII = regexp.MustCompile(`(?m)^[0-9a-f]{8}  [^|]*\|(.*)\|$`)

// Text returns the JSON-lines log raw plus, for every entry with a hex-dumped
// body, the dump's ASCII column joined into one line.
func Text(raw []byte) string {
	var b strings.Builder
	b.Write(raw)
	for _, line := range bytes.Split(raw, []byte("\n")) {
		var entry struct {
			Body string `json:"body"`
		}
		if json.Unmarshal(line, &entry) != nil || entry.Body == "" {
			continue
		}
		b.WriteString("\n")
		for _, m := range hexDumpASCII.FindAllStringSubmatch(entry.Body, -1) {
			b.WriteString(m[1])
		}
	}
	return b.String()
}
