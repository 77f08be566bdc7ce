# mcp-operator — run `make help` for the list of targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

# Tools are pinned and installed into bin/.
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE_VERSION ?= v5.8.2
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
CRD_REF_DOCS_VERSION ?= v0.3.0
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
HELM_VERSION ?= v4.3.2
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)

# kube-apiserver, kube-controller-manager and etcd built from source (see hack/envtest-assets.sh).
ENVTEST_ASSETS = $(shell hack/envtest-assets.sh)
# node-oidc-provider and Node 22, installed by the oidc-provider target.
OIDC_PROVIDER_DIR = $(shell hack/oidc-provider.sh installed)

GO_TEST_FLAGS ?= -count=1

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

# Where `make manifests` copies the generated files the Helm chart renders.
CHART_GENERATED = charts/mcp-operator/files/generated

.PHONY: manifests
manifests: controller-gen ## Generate the CRD, RBAC and webhook manifests under config/ (and their copies in the Helm chart).
	$(CONTROLLER_GEN) rbac:roleName=mcp-operator-manager crd webhook paths="./api/..." paths="./controllers/..." paths="./webhooks/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac output:webhook:artifacts:config=config/webhook
	@# The Helm chart renders the same generated CRD, manager rules and webhook
	@# rules, from copies (helm reads only files inside the chart).
	cp config/crd/bases/mcpoperator.io_mcpservers.yaml config/rbac/role.yaml config/webhook/manifests.yaml \
		config/prometheus/prometheusrule.yaml config/prometheus/mcp-operator-dashboard.json $(CHART_GENERATED)/

.PHONY: generate
generate: controller-gen ## Generate deepcopy code for the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -w $$(git ls-files --cached --others --exclude-standard '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (config in .golangci.yml; linters and the gofmt formatter).
	$(GOLANGCI_LINT) run ./...

.PHONY: api-docs
api-docs: crd-ref-docs ## Generate docs/api-reference.md from the API types.
	$(CRD_REF_DOCS) --source-path=./api --config=hack/crd-ref-docs.yaml --renderer=markdown --output-path=docs/api-reference.md >/dev/null

.PHONY: verify
verify: manifests generate api-docs ## Fail when generated files (CRDs, RBAC, deepcopy, the chart's copies, the API reference, dist/install.yaml) are stale or code is not gofmt'ed.
	@test -z "$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'); exit 1; }
	@git diff --exit-code -- config api $(CHART_GENERATED) docs/api-reference.md || { echo "generated files are stale: run 'make manifests generate api-docs' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- config api $(CHART_GENERATED) docs/api-reference.md)" || { git status --porcelain -- config api $(CHART_GENERATED) docs/api-reference.md; echo "generated files are not committed"; exit 1; }
	@$(MAKE) -s --no-print-directory build-installer IMG=mcp-operator:latest DEPLOY_CONFIG=config/default
	@test -z "$$(git status --porcelain -- dist)" || { git status --porcelain -- dist; git diff --stat -- dist; echo "dist/install.yaml is stale or not committed: run 'make build-installer' and commit"; exit 1; }

.PHONY: envtest
envtest: ## Build kube-apiserver, kube-controller-manager and etcd from source (cached outside the repo; ~15 min the first time).
	@hack/envtest-assets.sh >/dev/null

.PHONY: test
test: manifests generate vet lint fuzz envtest kustomize helm conformance oidc-provider ## Run every test: a short run of each fuzz target, the MCP conformance suite, then go test against a real kube-apiserver and etcd (the e2e suite also with kube-controller-manager, RBAC and admission enforced), a real node-oidc-provider and the Helm chart, then the system benchmark's smoke run (bench-smoke, quiet unless it fails; about a minute).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" KUSTOMIZE="$(KUSTOMIZE)" HELM="$(HELM)" OIDC_PROVIDER_DIR="$(OIDC_PROVIDER_DIR)" go test $(GO_TEST_FLAGS) ./...
	MCP_BENCH=smoke $(BENCH_SYSTEM) -timeout 10m

.PHONY: oidc-provider
oidc-provider: ## Install node-oidc-provider (pinned by test/oidcprovider/package-lock.json), the third-party authorization server of the tests, and Node 22 into a cache outside the repo.
	@hack/oidc-provider.sh >/dev/null

.PHONY: conformance
conformance: ## Run the official MCP conformance suite (auth at both spec versions, draft auth, backcompat) against the OAuth client; installs Node 22 and the pinned suite into a cache outside the repo.
	hack/conformance.sh

BENCH_PKGS ?= ./...
BENCH_TIME ?= 1s

.PHONY: bench-go
bench-go: ## Run the Go benchmarks (hot paths, no envtest) and print ns/op, B/op, allocs/op; well under 2 minutes.
	go test -run '^$$' -bench . -benchmem -benchtime=$(BENCH_TIME) $(BENCH_PKGS)

# The system benchmark (test/bench): the manager binary on a local control
# plane against the fake authorization server with an injected latency.
# MCP_BENCH_SERVERS, MCP_BENCH_REFRESHES, MCP_BENCH_USERS, MCP_BENCH_LATENCY
# and MCP_BENCH_IDLE override the sizes; results go to bench/results.json
# (bench/results-smoke.json for a smoke run; bench/ is git-ignored).
# Without -v (make test) go test prints the table only when the run fails.
BENCH_SYSTEM = KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -count=1 -run '^TestSystem$$' ./test/bench/

.PHONY: bench
bench: bench-go envtest ## Run the Go benchmarks, then the system benchmark at default sizes (P1-P6 against their floors, N=1,000; 10-20 min); prints a table and writes bench/results.json.
	MCP_BENCH=full $(BENCH_SYSTEM) -v -timeout 90m

.PHONY: bench-smoke
bench-smoke: envtest ## Run the system benchmark at N=50 and assert that every figure (P1-P6) was produced, not its timing; part of make test; about a minute.
	MCP_BENCH=smoke $(BENCH_SYSTEM) -v -timeout 10m

FUZZ_TIME ?= 3s

# Every `func FuzzXxx(f *testing.F)` in a _test.go file, committed or not, as
# "./pkg FuzzXxx" lines.
FUZZ_TARGETS = git grep --untracked -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' -- '*_test.go' | \
	sed -E 's|^(.*)/[^/]+:func (Fuzz[A-Za-z0-9_]+)\(.*|./\1 \2|' | sort

.PHONY: fuzz
fuzz: ## Run each Go fuzz target for FUZZ_TIME (default 3s), one after another (go test runs only one -fuzz target at a time); a longer run: make fuzz FUZZ_TIME=10m.
	@targets="$$($(FUZZ_TARGETS))"; test -n "$$targets" || { echo "no fuzz targets found"; exit 1; }; \
	while read -r pkg name; do \
		echo "go test -run '^$$' -fuzz '^$$name$$' -fuzztime $(FUZZ_TIME) $$pkg"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) "$$pkg" </dev/null || exit 1; \
	done <<< "$$targets"

# The version stamped into the binaries (--version, mcp_operator_build_info,
# the MCP client info) and the image: the git tag, else the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
VERSION_LDFLAGS = -X github.com/mcp-operator/mcp-operator/internal/version.Version=$(VERSION)

.PHONY: build
build: ## Build the manager and callback binaries into bin/, stamped with VERSION.
	go build -ldflags "$(VERSION_LDFLAGS)" -o $(LOCALBIN)/manager ./cmd/manager
	go build -ldflags "$(VERSION_LDFLAGS)" -o $(LOCALBIN)/callback ./cmd/callback

##@ Deployment

IMG ?= mcp-operator:latest

.PHONY: docker-build
docker-build: ## Build the image holding /manager and /callback (needs a Docker engine; none runs on the dev VMs).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

# The kustomization deploy, undeploy and build-installer render: config/default
# (webhooks, needs cert-manager), config/default-nowebhook (no cert-manager)
# or config/namespaced (after editing its namespace list).
DEPLOY_CONFIG ?= config/default

# render-config prints $(DEPLOY_CONFIG) rendered with the manager image set to
# $(IMG). The image is set in a throwaway kustomization that uses the overlay
# as its only resource, so config/ in the repository is never edited
# (`kustomize edit set image` would rewrite it). It lives two levels down in
# the git-ignored .local/ because kustomize takes only relative resource paths.
define render-config
mkdir -p .local; tmp="$$(mktemp -d .local/render.XXXXXX)"; trap 'rm -rf "$$tmp"' EXIT; \
( cd "$$tmp" && $(KUSTOMIZE) create --resources "../../$(DEPLOY_CONFIG)" && $(KUSTOMIZE) edit set image "mcp-operator=$(IMG)" ) && \
$(KUSTOMIZE) build "$$tmp"
endef

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	kubectl apply -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs from the cluster (delete every MCPServer first, while the manager runs: see undeploy).
	kubectl delete -k config/crd --ignore-not-found

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml: config/default (DEPLOY_CONFIG) as one manifest, manager image IMG. Commit it; make verify checks it.
	@mkdir -p dist
	@{ echo "# Generated by 'make build-installer' from $(DEPLOY_CONFIG); do not edit."; \
	  echo "# Needs cert-manager. Install: kubectl apply --server-side -f install.yaml"; \
	  $(render-config); } > dist/install.yaml

.PHONY: deploy
deploy: manifests kustomize ## Install the operator from DEPLOY_CONFIG (default config/default: webhooks, needs cert-manager) with the manager image IMG into the cluster of the current kubeconfig.
	@$(render-config) | kubectl apply --server-side -f -

# undeploy deletes every MCPServer first and waits: their finalizer revokes
# registered clients and is removed by the manager, so the manager must still
# be running. Then the manager, its RBAC and webhooks, and the CRD.
.PHONY: undeploy
undeploy: kustomize ## Remove the operator: every MCPServer first (the finalizer needs the running manager), then the manager, webhooks, RBAC and CRD.
	@if kubectl get crd mcpservers.mcpoperator.io >/dev/null 2>&1; then \
		kubectl delete mcpservers.mcpoperator.io --all --all-namespaces --wait --timeout=5m; \
	fi
	@$(render-config) | kubectl delete --ignore-not-found --wait -f -

.PHONY: run
run: manifests generate ## Run the manager locally against the current kubeconfig.
	go run ./cmd/manager --leader-elect=false --enable-webhooks=false

##@ Local cluster and demo

.PHONY: local-cluster
local-cluster: ## Start a local control plane (etcd, kube-apiserver with RBAC and OwnerReferencesPermissionEnforcement, kube-controller-manager for garbage collection and namespace deletion) in the background; kubeconfig in .local/kubeconfig.
	@hack/local-cluster.sh up

.PHONY: local-cluster-down
local-cluster-down: ## Stop the local control plane started by local-cluster.
	@hack/local-cluster.sh down

.PHONY: demo
demo: ## Run the whole product locally and narrate it; Ctrl-C stops it. DEMO_ONCE=1: run once, exit 0 only if every step passed.
	@mkdir -p .local/bin
	@go build -o .local/bin/demo ./hack/demo
	@DEMO_ONCE="$(DEMO_ONCE)" .local/bin/demo

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

.PHONY: crd-ref-docs
crd-ref-docs: $(CRD_REF_DOCS) ## Install crd-ref-docs (the API reference generator) into bin/.
$(CRD_REF_DOCS):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	mv $(LOCALBIN)/crd-ref-docs $(CRD_REF_DOCS)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/ (the e2e suite renders config/ with it).
$(KUSTOMIZE):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $(KUSTOMIZE)

# kustomize-path installs kustomize when missing and prints its path (the
# e2e suite runs it when $$KUSTOMIZE is unset).
.PHONY: kustomize-path
kustomize-path: $(KUSTOMIZE)
	@echo $(KUSTOMIZE)

.PHONY: helm
helm: $(HELM) ## Install helm into bin/, built from the Go module proxy (test/install lints, renders and dry-runs the chart with it).
$(HELM):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $(HELM)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)
