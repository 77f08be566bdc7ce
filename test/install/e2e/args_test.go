package e2e

import (
	"slices"
	"testing"
)

// The Deployment's flags survive, the local ones replace the pod's
// addresses whether or not the Deployment sets them, and a flag whose value
// is a separate argument is refused rather than half rewritten (the pod's
// address would stay).
func TestLocalArgs(t *testing.T) {
	set := map[string]string{"metrics-bind-address": "127.0.0.1:1", "kubeconfig": "/k"}
	cases := []struct {
		name    string
		args    []string
		want    []string
		wantErr bool
	}{{
		name: "replaced and added",
		args: []string{"--leader-elect", "--metrics-bind-address=:8443", "--callback-url=https://x/y"},
		want: []string{"--leader-elect", "--metrics-bind-address=127.0.0.1:1", "--callback-url=https://x/y", "--kubeconfig=/k"},
	}, {
		name: "all added",
		want: []string{"--kubeconfig=/k", "--metrics-bind-address=127.0.0.1:1"},
	}, {
		name:    "separate value",
		args:    []string{"--metrics-bind-address", ":8443"},
		wantErr: true,
	}, {
		name:    "single dash",
		args:    []string{"-metrics-bind-address=:8443"},
		wantErr: true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := localArgs(tc.args, set)
			if (err != nil) != tc.wantErr {
				t.Fatalf("localArgs(%v): %v, want error %v", tc.args, err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Errorf("localArgs(%v) = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}
