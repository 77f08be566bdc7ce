package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/mcp-operator/mcp-operator/test/harness"
)

// demo holds what the walkthrough started, so teardown stops exactly that.
type demo struct {
	repo, local string
	once        bool
	start       time.Time
	steps       int

	clusterStarted bool // hack/local-cluster.sh was started by this run
	bins           harness.Binaries
	procs          []*harness.Process // in start order
	mcpServers     []*harness.SimpleMCPServer
	c              client.Client
	appliedSamples bool
	tokenAtConnect *harness.TokenView
}

func (d *demo) kubeconfig() string { return filepath.Join(d.local, "kubeconfig") }
func (d *demo) logDir() string     { return filepath.Join(d.local, "logs") }
func (d *demo) callbackURL() string {
	return "http://" + callbackAddr
}

// walkthrough runs every step in order and stops at the first failure.
func (d *demo) walkthrough(ctx context.Context) error {
	fmt.Println("\033[1mmcp-operator demo\033[0m: a local control plane, the operator, the callback server and")
	fmt.Println("a fake MCP server with its own OAuth authorization server, all on 127.0.0.1.")
	fmt.Println("The first run on a machine builds kube-apiserver, kube-controller-manager and etcd")
	fmt.Println("from source (about 15 minutes on 2 cores, progress below); later runs start in seconds.")
	for _, s := range []struct {
		name string
		f    func(context.Context) error
	}{
		{"Local control plane (etcd, kube-apiserver, kube-controller-manager; CRDs installed)", d.startCluster},
		{"Build the manager, the callback server and the fake MCP + OAuth server", d.build},
		{"Start the MCP servers: fake MCP + OAuth server (OAuth2), open server (None), API-key server", d.startMCPServers},
		{"Start the manager and the callback server", d.startOperator},
		{"Apply config/samples (one MCPServer per auth type) to namespace " + namespace, d.applySamples},
		{"Watch each MCPServer become Ready", d.waitReady},
		{"Connect " + demoUser + " to oauth-demo through the callback server (headless browser)", d.connect},
		{"The token Secret the callback server wrote (values redacted)", d.showTokenSecret},
		{"Call tools as a chat pod would (pkg/mcpauth token lookup + go-sdk MCP client)", d.callTools},
		{"Watch the refresher renew " + demoUser + "'s token before it expires", d.watchRefresh},
	} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f := s.f
		if err := d.step(s.name, func() error { return f(ctx) }); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}

// teardown stops what the walkthrough started, newest first.
func (d *demo) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if d.appliedSamples && d.c != nil && d.managerRunning() {
		d.say("deleting the sample MCPServers (the manager deletes their client registrations and Secrets)")
		if err := harness.DeleteMCPServers(ctx, d.c, namespace, 20*time.Second); err != nil {
			d.say("warning: %v", err)
		}
	}
	for i := len(d.procs) - 1; i >= 0; i-- {
		p := d.procs[i]
		if err := p.Stop(10 * time.Second); err != nil {
			d.say("warning: %v", err)
		} else {
			d.say("stopped %s (pid %d)", p.Name, p.PID())
		}
	}
	for _, s := range d.mcpServers {
		s.Close()
	}
	if d.clusterStarted {
		cmd := exec.Command(filepath.Join(d.repo, "hack", "local-cluster.sh"), "down")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			d.say("warning: stopping the local control plane: %v", err)
		}
	} else if d.c != nil {
		d.say("the local control plane was already running before the demo: left running (make local-cluster-down stops it)")
	}
}

func (d *demo) managerRunning() bool {
	for _, p := range d.procs {
		if p.Name == "manager" {
			done, _ := p.Exited()
			return !done
		}
	}
	return false
}

// startCluster runs hack/local-cluster.sh up, noting whether it was already up.
func (d *demo) startCluster(ctx context.Context) error {
	script := filepath.Join(d.repo, "hack", "local-cluster.sh")
	out, _ := exec.CommandContext(ctx, script, "status").Output()
	running := strings.Contains(string(out), "api: ready")
	cmd := exec.CommandContext(ctx, script, "up")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hack/local-cluster.sh up: %w (logs in %s)", err, d.logDir())
	}
	d.clusterStarted = !running
	c, err := harness.NewClient(d.kubeconfig())
	if err != nil {
		return err
	}
	d.c = c
	if running {
		d.say("reusing the control plane that was already running")
	}
	d.say("kubeconfig: %s", d.kubeconfig())
	return nil
}

// build compiles the three binaries into .local/bin.
func (d *demo) build(context.Context) error {
	bins, err := harness.BuildBinaries(d.repo, filepath.Join(d.local, "bin"))
	if err != nil {
		return err
	}
	d.bins = bins
	d.say("%s, %s, %s", bins.Manager, bins.Callback, bins.FakeMCPServer)
	return nil
}
