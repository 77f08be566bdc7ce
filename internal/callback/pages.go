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

// pageCSP allows exactly the inline style and script, and no form.
var pageCSP = "default-src 'none'; style-src " + cspHash(pageStyle) + "; script-src " + cspHash(closeScript) +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// confirmCSP is the connect confirmation's: no script, and its form may be
// submitted. form-action is left out rather than narrowed to 'self':
// browsers apply it to the redirect that follows the POST, to the
// authorization server and through whatever sign-in pages it sends the user
// to, which no list can name. The only form is ours, with escaped values.
var confirmCSP = "default-src 'none'; style-src " + cspHash(pageStyle) + "; base-uri 'none'; frame-ancestors 'none'"

// page is rendered with html/template: every value is escaped.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1>{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Detail}}<p><small>{{.Detail}}</small></p>{{end}}
{{with .Confirm}}<p>Connect <strong>{{.Server}}</strong> to the chat account <strong>{{.User}}</strong>?</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="` + confirmField + `" value="{{.Token}}"><button type="submit">Connect</button></form>
<p><small>If that is not your chat account, close this window.</small></p>{{end}}
{{if .Close}}<div id="r" data-server="{{.Server}}" data-origin="{{.Origin}}"></div><script>` + closeScript + `</script>{{end}}
</body></html>
`))

type pageData struct {
	Title, Message, Detail string
	Confirm                *confirmForm // the connect confirmation
	Close                  bool         // the success page: notify the opener and close the popup
	Server, Origin         string       // for postMessage: "namespace/name" and the public URL's origin
}

// confirmForm is the connect confirmation: which server, which chat
// account, and the form that goes on to the authorization server.
type confirmForm struct {
	Server, User  string // the server's display name and the chat account's user ID
	Action, Token string // the connect URL to POST to and confirmToken of the flow
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	csp := pageCSP
	if d.Confirm != nil {
		csp = confirmCSP
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = page.Execute(w, d)
}
