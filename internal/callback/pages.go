package callback

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
)

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// pageStyle and closeScript are the only inline code; the CSP allows exactly
// them by hash.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222}`

const closeScript = `(function(){var d=document.getElementById("r").dataset;` +
	`if(window.opener){try{window.opener.postMessage({type:"mcp-operator:connected",server:d.server},d.origin)}catch(e){}}` +
	`window.close()})()`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

var pageCSP = "default-src 'none'; style-src " + cspHash(pageStyle) + "; script-src " + cspHash(closeScript) +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// page is rendered with html/template: every value is escaped.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Detail}}<p><small>{{.Detail}}</small></p>{{end}}
{{if .Close}}<div id="r" data-server="{{.Server}}" data-origin="{{.Origin}}"></div><script>` + closeScript + `</script>{{end}}
</body></html>
`))

type pageData struct {
	Title, Message, Detail string
	Close                  bool   // the success page: notify the opener and close the popup
	Server, Origin         string // for postMessage: "namespace/name" and the public URL's origin
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = page.Execute(w, d)
}
