package main

import (
	"fmt"
	"strings"
	"time"
)

// stepError names the step that failed.
type stepError struct {
	n    int
	name string
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d (%s): %v", e.n, e.name, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// step runs one narrated step: a header, its output indented, and how long
// it took. A failure is wrapped in a stepError naming it.
func (d *demo) step(name string, f func() error) error {
	d.steps++
	fmt.Printf("\n\033[1m[%7s] Step %d: %s\033[0m\n", since(d.start), d.steps, name)
	t := time.Now()
	if err := f(); err != nil {
		fmt.Printf("          \033[31m✗ failed after %s: %v\033[0m\n", since(t), err)
		return &stepError{n: d.steps, name: name, err: err}
	}
	fmt.Printf("          \033[32m✓ done in %s\033[0m\n", since(t))
	return nil
}

// say prints one indented line of narration.
func (d *demo) say(format string, args ...any) {
	fmt.Printf("          "+format+"\n", args...)
}

// sayAt prints a narration line with the time since the step started.
func (d *demo) sayAt(t time.Time, format string, args ...any) {
	fmt.Printf("          %6s  "+format+"\n", append([]any{"+" + since(t)}, args...)...)
}

// block prints lines indented under the current step.
func (d *demo) block(lines []string) {
	for _, l := range lines {
		fmt.Println("            " + l)
	}
}

// explore prints what to look at while the demo keeps running.
func (d *demo) explore() {
	kc := d.kubeconfig()
	fmt.Printf("\n\033[1mThe demo keeps running; explore it from another terminal:\033[0m\n\n")
	fmt.Println("  export KUBECONFIG=" + kc)
	for _, l := range []string{
		"kubectl get mcps -n " + namespace + " -o wide",
		"kubectl describe mcps oauth-demo -n " + namespace,
		"kubectl get mcps oauth-demo -n " + namespace + " -o jsonpath='{.status.oauth2}' | python3 -m json.tool",
		"kubectl get secrets -n " + namespace + " -l mcpoperator.io/server=oauth-demo --show-labels",
		"kubectl get events -n " + namespace + " --sort-by=.lastTimestamp",
		"curl -s -H '" + userHeader + ": " + demoUser + "' http://" + callbackAddr + "/connections | python3 -m json.tool",
		"tail -f " + d.logDir() + "/manager.log",
	} {
		fmt.Println("  " + l)
	}
	fmt.Printf("\n  Logs: %s/{manager,callback,fake-mcp-server}.log\n", d.logDir())
	fmt.Printf("  The refresher renews demo-user's token every ~%s; watch it with:\n", (tokenTTL * 4 / 5).String())
	fmt.Printf("  kubectl get secrets -n %s -l mcpoperator.io/user-hash -w -o custom-columns=NAME:.metadata.name,ISSUED:.metadata.annotations.mcpoperator\\.io/issued-at\n", namespace)
	fmt.Printf("\n  %s\n", strings.Repeat("─", 60))
	fmt.Println("  Press Ctrl-C to stop everything the demo started.")
}
