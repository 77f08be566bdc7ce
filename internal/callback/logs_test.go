package callback_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"

	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
	"github.com/mcp-operator/mcp-operator/pkg/mcpauth"
	"github.com/mcp-operator/mcp-operator/test/fakeauth"
	"github.com/mcp-operator/mcp-operator/test/harness"
	"github.com/mcp-operator/mcp-operator/test/logscan"
)

// zapLevelAll enables every V-level.
var zapLevelAll = zapcore.Level(-127)

var _ = Describe("Logs", func() {
	It("carry no secret material at the highest verbosity", func() {
		e := newEnv(setup{verboseLogs: true, fake: withISS})
		var secrets []string

		// A ticket-authenticated connect, its confirmation, its callback, the
		// connections list and a disconnect.
		link := func() string {
			GinkgoHelper()
			l, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "alice", Server: e.ns + "/" + e.name})
			Expect(err).NotTo(HaveOccurred())
			secrets = append(secrets, l)
			return "ticket=" + url.QueryEscape(l)
		}
		t, err := mcpauth.MintTicket(ticketKey, mcpauth.Ticket{User: "alice", AnyServer: true})
		Expect(err).NotTo(HaveOccurred())
		page, unconfirmed := e.confirmationPage(nil, link())
		_, fields, _ := harness.ConfirmForm(page.body)
		r := e.confirmRequest(page, nil, unconfirmed)
		Expect(r.StatusCode).To(Equal(http.StatusSeeOther), r.body)
		authURL, err := url.Parse(r.Header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		cookie := flowCookie(r)
		verifier, state, err := e.cb.OpenFlowForTest(cookie.Value, e.ns, e.name)
		Expect(err).NotTo(HaveOccurred())
		cb := authorize(authURL)
		secrets = append(secrets, t, unconfirmed.Value, fields.Get("confirm"), cookie.Value, verifier, state, cb.Query().Get("code"))
		Expect(send(http.MethodGet, cb.String(), nil, cookie).StatusCode).To(Equal(http.StatusOK))
		sec, err := e.tokenSecret("alice")
		Expect(err).NotTo(HaveOccurred())
		secrets = append(secrets, string(sec.Data[mcpauth.KeyAccessToken]), string(sec.Data[tokensecret.KeyRefreshToken]), e.client.Secret)
		e.connections(bearer(t))

		// Failures log too: a replay, a reused link, a forged state and a failed exchange.
		send(http.MethodGet, cb.String(), nil, cookie)
		send(http.MethodGet, page.Request.URL.String(), nil)
		authURL, cookie = e.startFlow(nil, link())
		cb = authorize(authURL)
		secrets = append(secrets, cookie.Value, cb.Query().Get("code"), authURL.Query().Get("state"))
		send(http.MethodGet, withQuery(cb, "state", "forged-state-value"), nil, cookie)
		authURL, cookie = e.startFlow(nil, link())
		cb = authorize(authURL)
		secrets = append(secrets, cookie.Value, cb.Query().Get("code"), authURL.Query().Get("state"))
		e.fake.SetFault(fakeauth.Failing(http.StatusBadRequest, fakeauth.EndpointToken))
		send(http.MethodGet, cb.String(), nil, cookie)
		e.fake.SetFault(fakeauth.Fault{})
		Expect(send(http.MethodDelete, e.url+"/connections/"+e.ns+"/"+e.name, bearer(t)).StatusCode).To(Equal(http.StatusNoContent))

		// client-go dumps API bodies at V(8): raw in JSON, base64 for a
		// Secret's data, hex-dumped for protobuf. Search every form.
		logs := logscan.Text([]byte(e.logs.String()))
		Expect(logs).To(ContainSubstring("User connected"))
		Expect(logs).To(ContainSubstring("Code exchange failed"))
		Expect(logs).To(ContainSubstring("User disconnected"))
		for _, s := range secrets {
			Expect(s).NotTo(BeEmpty())
			Expect(strings.Contains(logs, s)).To(BeFalse(), "a secret value appears in the logs")
			Expect(strings.Contains(logs, url.QueryEscape(s))).To(BeFalse(), "a secret value appears in the logs")
			Expect(strings.Contains(logs, base64.StdEncoding.EncodeToString([]byte(s)))).To(BeFalse(), "a secret value appears base64-encoded in the logs")
		}
		GinkgoWriter.Println(logs)
	})
})
