#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from source through
# the Go module proxy into a per-user cache outside the repository and prints
# the directory to use as KUBEBUILDER_ASSETS. Idempotent: when the binaries
# exist it only prints.
#
# Why from source: setup-envtest downloads from a bucket these machines cannot
# reach; the Go module proxy is the only source allowed.
#
# Usage: hack/envtest-assets.sh            (versions from go.mod / defaults)
#        KUBE_VERSION=v1.37.2 ETCD_VERSION=v3.6.6 hack/envtest-assets.sh
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)

# Kubernetes minor follows the client-go minor in go.mod (v0.37.x -> v1.37.x).
client_go=$(awk '{for (i = 1; i < NF; i++) if ($i == "k8s.io/client-go") {print $(i+1); exit}}' "$repo_root/go.mod")
[[ -n "$client_go" ]] || { echo "envtest-assets: k8s.io/client-go not found in go.mod" >&2; exit 1; }
KUBE_VERSION=${KUBE_VERSION:-v1.${client_go#v0.}}
ETCD_VERSION=${ETCD_VERSION:-v3.6.6}

cache=${MCP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator}
dir="$cache/envtest/$KUBE_VERSION"
mkdir -p "$dir"
# One build at a time: parallel test packages may call this script together.
exec 9>"$dir/.lock"
flock 9

log() { echo "envtest-assets: $*" >&2; }

build_etcd() {
  [[ -x "$dir/etcd" ]] && return
  log "building etcd $ETCD_VERSION from source (about a minute on 2 cores)"
  local work; work=$(mktemp -d); trap 'rm -rf "$work"' RETURN
  (cd "$work" && go mod init envtest-etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 &&
    CGO_ENABLED=0 go build -trimpath -o "$dir/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$dir/etcd.tmp" "$dir/etcd"
}

# build_kube NAME: builds k8s.io/kubernetes/cmd/NAME (kube-apiserver,
# kube-controller-manager) into $dir. Both come from the same throw-away
# module, so the second shares most compiled packages with the first through
# the Go build cache.
build_kube() {
  local name=$1
  [[ -x "$dir/$name" ]] && return
  case $name in
    kube-apiserver) log "building $name $KUBE_VERSION from source: about 10 minutes on 2 cores the first time, seconds afterwards" ;;
    *) log "building $name $KUBE_VERSION from source: a few minutes on 2 cores the first time (it shares most packages with kube-apiserver), seconds afterwards" ;;
  esac
  local work; work=$(mktemp -d); trap 'rm -rf "$work"' RETURN
  local kdir
  kdir=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | awk -F'"' '$2 == "Dir" {print $4}')
  # k8s.io/kubernetes replaces its staging modules with ./staging paths; point
  # each of them at its published version (v0.<minor>.<patch>) instead.
  local staging_version="v0.${KUBE_VERSION#v1.}"
  {
    echo "module envtest-kube"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    awk '/=> \.\/staging\// {print "replace " $1 " => " $1 " '"$staging_version"'"}' "$kdir/go.mod"
  } > "$work/go.mod"
  (cd "$work" && GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/$name@$KUBE_VERSION" 2>&1 | grep -v '^go: downloading' >&2 || true)
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath \
    -ldflags "-X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor" \
    -o "$dir/$name.tmp" "k8s.io/kubernetes/cmd/$name" 2>&1 |
    awk -v name="$name" '/^(#|\t|[a-z./_-]+:[0-9]+)/ {print > "/dev/stderr"; next}
         {n++; if (n % 200 == 0) printf "envtest-assets: %s: %d packages compiled\n", name, n > "/dev/stderr"}')
  [[ -f "$dir/$name.tmp" ]] || { log "$name build failed"; exit 1; }
  mv "$dir/$name.tmp" "$dir/$name"
}

build_etcd
build_kube kube-apiserver
# The garbage collector and namespace deletion of the e2e suite, the demo
# and make local-cluster.
build_kube kube-controller-manager
echo "$dir"
