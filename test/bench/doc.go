// Package bench is the system benchmark of issue 15: the real manager binary
// against a local kube-apiserver and etcd, with the fake authorization
// server answering after an injected latency, each figure set against a
// floor measured in the same run (a bare client doing the same API writes
// and OAuth requests with the same client rate limits; for P6, the
// callback server's connects, a bare net/http handler doing the same code
// exchange and token Secret write, driven by the same user agent).
//
// The run is TestSystem, skipped unless MCP_BENCH is "full" or "smoke"
// (make bench, make bench-smoke), so `go test ./...` runs only the unit
// tests of the report. Results are printed as a table and written as JSON
// to MCP_BENCH_OUT (default bench/results.json at the repository root, or
// bench/results-smoke.json for a smoke run; bench/ is git-ignored).
package bench
