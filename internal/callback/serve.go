package callback

import (
	"cmp"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
)

// handler answers one route with a reply or an error (a *failure); serve
// counts, logs and writes either. It writes nothing itself.
type handler func(q *request) (reply, error)

// request is what a handler gets: the HTTP request, the response headers
// (for the flow cookie and Retry-After only) and, once the handler knows it, the user, whose
// hash serve logs.
type request struct {
	*http.Request
	header http.Header
	user   string
}

// reply is a handler's answer: a redirect, a page, a JSON body, or only a
// status (200 when unset).
type reply struct {
	status   int
	location string
	page     *pageData
	json     any
	result   string // metric result; "" counts nothing
	log      string // logged at Info
}

// failure is a request refused or failed.
type failure struct {
	status int
	msg    string // shown to the user: ours, never upstream text or a secret
	code   string // a machine-readable mcpauth.Code* next to msg in JSON; "" for none
	detail string // shown under msg on a page: escaped upstream text
	result string // metric result; "" counts nothing
	json   bool   // JSON even on a page route: no such route, or no user
	log    string // logged at Info (or with err as an error); "" logs at V(1)
	err    error  // the cause, for the log only
}

func (f *failure) Error() string { return f.msg }

func refuse(status int, result, msg string) *failure {
	return &failure{status: status, result: result, msg: msg}
}

var errNotFound = &failure{status: http.StatusNotFound, msg: "not found", result: resultRejected, json: true}

// errorStyle is how a route shows failures.
type errorStyle bool

const (
	asPage errorStyle = true // the sign-in popup's routes
	asJSON errorStyle = false
)

// serve turns h into a route handler. Routes with a {namespace} answer only
// the served namespace. Logs name the route by its pattern, never the URL:
// its query carries codes, states and tickets.
func (s *Server) serve(h handler, counter *prometheus.CounterVec, style errorStyle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.opts.Log.WithValues("route", r.Pattern)
		if name := r.PathValue("name"); name != "" {
			log = log.WithValues("server", name)
		}
		q := &request{Request: r.WithContext(logf.IntoContext(r.Context(), log)), header: w.Header()}
		var out reply
		err := error(errNotFound)
		if ns := r.PathValue("namespace"); ns == "" || ns == s.opts.Namespace {
			out, err = h(q)
		}
		if q.user != "" {
			log = log.WithValues("userHash", mcpauth.UserHash(q.user))
		}
		if err == nil {
			count(counter, out.result)
			if out.log != "" {
				log.Info(out.log)
			}
			out.write(w, r)
			return
		}
		var f *failure
		if !errors.As(err, &f) {
			f = &failure{status: http.StatusInternalServerError, msg: "internal error", log: "Request failed", err: err}
		}
		count(counter, f.result)
		log = log.WithValues("status", f.status, "result", f.result)
		switch {
		case f.err != nil:
			log.Error(f.err, f.log)
		case f.log != "":
			log.Info(f.log)
		default:
			log.V(1).Info("Request refused")
		}
		if style == asPage && !f.json {
			writePage(w, f.status, pageData{Title: "Connection failed", Message: f.msg, Detail: f.detail})
			return
		}
		body := map[string]string{"error": f.msg}
		if f.code != "" {
			body["code"] = f.code
		}
		writeJSON(w, f.status, body)
	})
}

func count(counter *prometheus.CounterVec, result string) {
	if counter != nil && result != "" {
		counter.WithLabelValues(result).Inc()
	}
}

func (out reply) write(w http.ResponseWriter, r *http.Request) {
	status := cmp.Or(out.status, http.StatusOK)
	switch {
	case out.location != "":
		http.Redirect(w, r, out.location, status)
	case out.page != nil:
		writePage(w, status, *out.page)
	case out.json != nil:
		writeJSON(w, status, out.json)
	default:
		w.WriteHeader(status)
	}
}
