package logsafe

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func TestWithoutBodyDumps(t *testing.T) {
	var buf bytes.Buffer
	base := zap.New(zap.WriteTo(&buf), zap.Level(zapcore.Level(-10)))
	ctx := WithoutBodyDumps(ctrl.LoggerInto(context.Background(), base))
	log := ctrl.LoggerFrom(ctx).WithValues("k", "v").WithName("n")

	log.Info("kept-info")
	log.V(7).Info("kept-v7")
	log.V(8).Info("Request Body", "body", "secret-data")
	if log.V(8).Enabled() {
		t.Fatal("V(8) must be disabled: client-go checks Enabled before dumping bodies")
	}
	out := buf.String()
	for _, want := range []string{"kept-info", "kept-v7", `"k":"v"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %s", want, out)
		}
	}
	if strings.Contains(out, "secret-data") {
		t.Fatalf("V(8) message logged: %s", out)
	}
}

// The binaries cap their root logger: V(8), where client-go dumps bodies,
// is off whatever level the logger was built with, and capping twice wraps
// once.
func TestCapDisablesBodyDumpLevels(t *testing.T) {
	var buf bytes.Buffer
	log := Cap(zap.New(zap.WriteTo(&buf), zap.Level(zapcore.Level(-10))))
	if log.V(8).Enabled() || !log.V(7).Enabled() {
		t.Fatalf("V(8) enabled = %v, V(7) enabled = %v; want false, true", log.V(8).Enabled(), log.V(7).Enabled())
	}
	if _, ok := Cap(log).GetSink().(cappedSink).LogSink.(cappedSink); ok {
		t.Fatal("Cap wrapped an already capped logger again")
	}
}
