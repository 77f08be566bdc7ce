// Package logsafe keeps Secret material out of the operator's logs.
package logsafe

import (
	"context"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// maxLogVerbosity caps what a reconcile may log. client-go dumps request
// and response bodies at V(8) through the context's logger, and those bodies
// carry Secret data (client secrets, registration access tokens, API keys).
// Every other message still reaches the operator's logger.
const maxLogVerbosity = 7

// WithoutBodyDumps returns ctx whose logger drops messages above
// maxLogVerbosity, so that no Secret read or written during the reconcile
// can reach a log line, whatever the manager's --zap-log-level.
func WithoutBodyDumps(ctx context.Context) context.Context {
	log := ctrl.LoggerFrom(ctx)
	if log.GetSink() == nil {
		return ctx
	}
	return ctrl.LoggerInto(ctx, logr.New(cappedSink{LogSink: log.GetSink(), max: maxLogVerbosity}))
}

// cappedSink is a logr.LogSink that is disabled above max.
type cappedSink struct {
	logr.LogSink
	max int
}

func (s cappedSink) Enabled(level int) bool { return level <= s.max && s.LogSink.Enabled(level) }

func (s cappedSink) Info(level int, msg string, kv ...any) {
	if level <= s.max {
		s.LogSink.Info(level, msg, kv...)
	}
}

func (s cappedSink) WithValues(kv ...any) logr.LogSink {
	return cappedSink{LogSink: s.LogSink.WithValues(kv...), max: s.max}
}

func (s cappedSink) WithName(name string) logr.LogSink {
	return cappedSink{LogSink: s.LogSink.WithName(name), max: s.max}
}
