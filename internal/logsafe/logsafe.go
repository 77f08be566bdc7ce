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
	return ctrl.LoggerInto(ctx, Cap(ctrl.LoggerFrom(ctx)))
}

// Cap returns log without the messages above maxLogVerbosity. Every binary
// caps its root logger, so that --zap-log-level=8 or more cannot make
// client-go dump a Secret's body anywhere in it.
func Cap(log logr.Logger) logr.Logger {
	sink := log.GetSink()
	if sink == nil {
		return log
	}
	if _, capped := sink.(cappedSink); capped {
		return log
	}
	return logr.New(cappedSink{LogSink: sink, max: maxLogVerbosity})
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
