package bench

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// Config sizes a run.
type Config struct {
	// Mode is "full" or "smoke"; smoke asserts that every figure was
	// produced, never its timing (CI machines are shared and noisy).
	Mode string
	// Servers is N, the largest P1 size; P1 also runs N/10 and N/3.
	Servers int
	// Secrets are the token Secret counts of P4 (RSS at each).
	Secrets []int
	// Refreshes is the number of due refreshes of P5.
	Refreshes int
	// ConnectUsers is the number of concurrent users of P6.
	ConnectUsers int
	// Latency is the fake authorization server's per-request delay.
	Latency time.Duration
	// Idle is P3's window after convergence.
	Idle time.Duration
	// Out is where the JSON results go; empty: OutPath's default.
	Out string
}

// The run modes MCP_BENCH selects.
const (
	ModeFull  = "full"
	ModeSmoke = "smoke"
)

// Modes are the default sizes of each run.
var Modes = map[string]Config{
	ModeFull: {Mode: ModeFull, Servers: 1000, Secrets: []int{1000, 10000}, Refreshes: 10000, ConnectUsers: 50,
		Latency: 50 * time.Millisecond, Idle: 60 * time.Second},
	ModeSmoke: {Mode: ModeSmoke, Servers: 50, Secrets: []int{50, 500}, Refreshes: 50, ConnectUsers: 10,
		Latency: 50 * time.Millisecond, Idle: 3 * time.Second},
}

// ConfigFromEnv is the Config MCP_BENCH names, with MCP_BENCH_SERVERS,
// MCP_BENCH_REFRESHES, MCP_BENCH_USERS, MCP_BENCH_LATENCY, MCP_BENCH_IDLE
// and MCP_BENCH_OUT overriding its defaults. ok is false when MCP_BENCH is unset.
func ConfigFromEnv(getenv func(string) string) (c Config, ok bool, err error) {
	mode := getenv("MCP_BENCH")
	if mode == "" {
		return Config{}, false, nil
	}
	c, known := Modes[mode]
	if !known {
		return Config{}, false, fmt.Errorf("MCP_BENCH=%q: want full or smoke", mode)
	}
	c.Secrets = append([]int(nil), c.Secrets...)
	if err := overrideInt(getenv, "MCP_BENCH_SERVERS", &c.Servers); err != nil {
		return Config{}, false, err
	}
	if err := overrideInt(getenv, "MCP_BENCH_REFRESHES", &c.Refreshes); err != nil {
		return Config{}, false, err
	}
	if err := overrideInt(getenv, "MCP_BENCH_USERS", &c.ConnectUsers); err != nil {
		return Config{}, false, err
	}
	if err := overrideDuration(getenv, "MCP_BENCH_LATENCY", &c.Latency); err != nil {
		return Config{}, false, err
	}
	if err := overrideDuration(getenv, "MCP_BENCH_IDLE", &c.Idle); err != nil {
		return Config{}, false, err
	}
	c.Out = getenv("MCP_BENCH_OUT")
	return c, true, nil
}

// OutPath is where the JSON results go: Out, else bench/results.json under
// the repository root, bench/results-smoke.json for a smoke run (make test
// runs one, and must not overwrite the last full run's results). bench/ is
// git-ignored.
func (c Config) OutPath(repoRoot string) string {
	switch {
	case c.Out != "":
		return c.Out
	case c.Mode == ModeSmoke:
		return filepath.Join(repoRoot, "bench", "results-smoke.json")
	default:
		return filepath.Join(repoRoot, "bench", "results.json")
	}
}

// Sizes are P1's three sizes: N/10, N/3 and N (at least 1 each).
func (c Config) Sizes() []int {
	return []int{max(c.Servers/10, 1), max(c.Servers/3, 1), c.Servers}
}

func overrideInt(getenv func(string) string, key string, dst *int) error {
	v := getenv(key)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%s=%q: want a positive integer", key, v)
	}
	*dst = n
	return nil
}

func overrideDuration(getenv func(string) string, key string, dst *time.Duration) error {
	v := getenv(key)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%s=%q: want a duration such as 50ms", key, v)
	}
	*dst = d
	return nil
}
