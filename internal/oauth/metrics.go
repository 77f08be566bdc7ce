package oauth

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// RequestKind labels outbound requests in metrics. Only these constants are
// ever used as label values; a URL or token never is.
type RequestKind string

// Request kinds.
const (
	KindPRM        RequestKind = "prm"
	KindASMetadata RequestKind = "as_metadata"
	KindRegister   RequestKind = "register"
	KindToken      RequestKind = "token"
	KindRevoke     RequestKind = "revoke"
	KindMCP        RequestKind = "mcp"
	KindCIMD       RequestKind = "cimd"
	KindOther      RequestKind = "other"
)

type kindKey struct{}

// WithKind returns a context whose requests are labelled with kind.
func WithKind(ctx context.Context, kind RequestKind) context.Context {
	return context.WithValue(ctx, kindKey{}, kind)
}

func kindOf(ctx context.Context) RequestKind {
	k, _ := ctx.Value(kindKey{}).(RequestKind)
	switch k {
	case KindPRM, KindASMetadata, KindRegister, KindToken, KindRevoke, KindMCP, KindCIMD:
		return k
	}
	return KindOther
}

var (
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcp_operator_oauth_request_duration_seconds",
		Help:    "Duration of outbound OAuth and MCP requests until response headers, by endpoint kind and HTTP status code (or blocked/error).",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15},
	}, []string{"kind", "code"})

	discoveryTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_discovery_total",
		Help: "Authorization discovery attempts by result (success or the failure reason).",
	}, []string{"result"})

	registrationTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcp_operator_registration_total",
		Help: "Client registrations by method (Static, CIMD, DCR) and result (success or the failure reason).",
	}, []string{"method", "result"})
)

// Collectors returns the package's metrics, for a caller that serves its own
// registry. They are registered on controller-runtime's registry at init.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{requestDuration, discoveryTotal, registrationTotal}
}

func init() {
	for _, c := range Collectors() {
		if err := ctrlmetrics.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
}

func observeRequest(kind RequestKind, code string, start time.Time) {
	requestDuration.WithLabelValues(string(kind), code).Observe(time.Since(start).Seconds())
}

// resultLabel maps an outcome to a bounded label value.
func resultLabel(err error) string {
	if err == nil {
		return "success"
	}
	if r := ReasonOf(err); r != "" {
		return string(r)
	}
	return "error"
}

func recordDiscovery(err error) { discoveryTotal.WithLabelValues(resultLabel(err)).Inc() }

// RecordRegistration counts a registration outcome. Register records CIMD
// and DCR itself; the controller calls this for static (pre-registered)
// clients only.
func RecordRegistration(method string, err error) {
	switch method {
	case MethodStatic, MethodCIMD, MethodDCR:
	default:
		method = "other"
	}
	registrationTotal.WithLabelValues(method, resultLabel(err)).Inc()
}
