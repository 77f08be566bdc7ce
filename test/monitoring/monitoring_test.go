// Package monitoring checks config/prometheus against the code: every
// metric and label value an alert or dashboard panel names is one the
// operator exports, so a renamed metric cannot leave a silent alert.
package monitoring

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/mcp-operator/mcp-operator/test/envtestutil"
)

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type prometheusRule struct {
	Kind string `json:"kind"`
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

type dashboard struct {
	UID    string `json:"uid"`
	Panels []struct {
		ID      int    `json:"id"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func dir() string { return filepath.Join(envtestutil.RepoRoot(), "config", "prometheus") }

func TestAlertsAreComplete(t *testing.T) {
	var pr prometheusRule
	readYAML(t, filepath.Join(dir(), "prometheusrule.yaml"), &pr)
	if pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		t.Fatalf("not a PrometheusRule with groups: %+v", pr)
	}
	seen := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			switch {
			case r.Alert == "" || r.Expr == "":
				t.Errorf("rule %+v: every rule is an alert with an expression", r)
			case seen[r.Alert]:
				t.Errorf("alert %s is defined twice", r.Alert)
			case r.Labels["severity"] == "":
				t.Errorf("alert %s has no severity label", r.Alert)
			case r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("alert %s needs a summary and a description saying what to do", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			seen[r.Alert] = true
		}
	}
	for _, want := range []string{"MCPServerNotReady", "MCPOperatorTokenRefreshFailing", "MCPOperatorReauthorizationRequiredGrowing",
		"MCPOperatorTokenRefreshLagging", "MCPOperatorDiscoveryFailing"} {
		if !seen[want] {
			t.Errorf("alert %s is missing", want)
		}
	}
}

func TestDashboardIsValid(t *testing.T) {
	var d dashboard
	data, err := os.ReadFile(filepath.Join(dir(), "mcp-operator-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || len(p.Targets) == 0 {
			t.Errorf("panel %q: duplicate id %d or no query", p.Title, p.ID)
		}
		ids[p.ID] = true
	}
}

var (
	metricName = regexp.MustCompile(`\bmcp_operator_[a-z_]+`)
	// label="v", label=~"a|b", label!="v": the values must exist in code.
	matcher = regexp.MustCompile(`\b([a-z_]+)(=~|!=|=)"([^"]*)"`)
)

// Every metric and matched label value in the alerts and the dashboard is
// declared in the operator's Go source.
func TestQueriesNameExportedMetrics(t *testing.T) {
	source := goSource(t)
	var pr prometheusRule
	readYAML(t, filepath.Join(dir(), "prometheusrule.yaml"), &pr)
	var exprs []string
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var d dashboard
	data, err := os.ReadFile(filepath.Join(dir(), "mcp-operator-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			base := m
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !strings.Contains(source, `"`+base+`"`) {
				t.Errorf("%s names %s, which no Go source declares", e, m)
			}
		}
		for _, m := range matcher.FindAllStringSubmatch(e, -1) {
			for _, v := range strings.Split(m[3], "|") {
				if !strings.Contains(source, `"`+v+`"`) {
					t.Errorf("%s matches %s=%q, a value no Go source uses", e, m[1], v)
				}
			}
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// goSource is the operator's non-test Go source, concatenated.
func goSource(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	repo := os.DirFS(envtestutil.RepoRoot())
	for _, d := range []string{"cmd", "controllers", "internal", "pkg", "api"} {
		err := fs.WalkDir(repo, d, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			data, err := fs.ReadFile(repo, path)
			b.Write(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
