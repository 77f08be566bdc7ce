#!/usr/bin/env bash
# Starts a local Kubernetes control plane (etcd, kube-apiserver and
# kube-controller-manager, the same source-built binaries the tests use) in
# the background, writes an admin kubeconfig and installs the project's CRDs.
# It enforces what a real cluster does: RBAC, the
# OwnerReferencesPermissionEnforcement admission plugin, garbage collection
# and namespace deletion (kube-controller-manager runs only those two
# controllers). No kubelet, no scheduler: enough for the operator, which only
# talks to the API server.
#
# Usage: hack/local-cluster.sh [up|down|status]     (default: up)
#
# Everything lives under $LOCAL_DIR (default .local/, git-ignored):
#   kubeconfig                     admin kubeconfig (export KUBECONFIG=...)
#   etcd.pid, kube-apiserver.pid, kube-controller-manager.pid
#                                  process ids, used by `down`
#   logs/etcd.log, logs/kube-apiserver.log, logs/kube-controller-manager.log
#   cluster/                       etcd data, certificates, token file
#
# Idempotent: `up` returns at once when the recorded control plane is running
# and ready. Binds 127.0.0.1 only. Ports: LOCAL_APISERVER_PORT (16443),
# LOCAL_ETCD_PORT (12379), LOCAL_ETCD_PEER_PORT (12380).
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
LOCAL_DIR=${LOCAL_DIR:-$repo_root/.local}
APISERVER_PORT=${LOCAL_APISERVER_PORT:-16443}
ETCD_PORT=${LOCAL_ETCD_PORT:-12379}
ETCD_PEER_PORT=${LOCAL_ETCD_PEER_PORT:-12380}

state="$LOCAL_DIR/cluster"
logs="$LOCAL_DIR/logs"
kubeconfig="$LOCAL_DIR/kubeconfig"
api_url="https://127.0.0.1:$APISERVER_PORT"

log() { echo "local-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# pid_alive NAME: the recorded process of NAME is running (and is still NAME,
# not a recycled pid).
pid_alive() {
  local f="$LOCAL_DIR/$1.pid" pid
  [[ -s "$f" ]] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "/$1 "
}

# api_ready: kube-apiserver answers /readyz with the admin token.
api_ready() {
  [[ -s "$state/admin-token" ]] || return 1
  curl -sf --max-time 2 --cacert "$state/ca.crt" \
    -H "Authorization: Bearer $(cat "$state/admin-token")" \
    "$api_url/readyz" >/dev/null 2>&1
}

# assets_dir prints the binaries' directory, building them on first use.
assets_dir() {
  local cache=${MCP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator}
  if ! compgen -G "$cache/envtest/*/kube-apiserver" >/dev/null; then
    log "first run on this machine: building kube-apiserver, kube-controller-manager and etcd from source."
    log "this takes about 15 minutes on 2 cores (progress below); later runs start in seconds."
  fi
  "$repo_root/hack/envtest-assets.sh"
}

# gen_certs creates a CA, a serving certificate for 127.0.0.1/localhost, a
# service-account signing key and an admin token, once.
gen_certs() {
  [[ -s "$state/admin-token" ]] && return
  log "generating certificates and an admin token in $state"
  mkdir -p "$state"
  (
    cd "$state"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mcp-operator-local-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
      -keyout apiserver.key -out apiserver.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # token,user,uid,"groups": the admin is in system:masters (full access under RBAC).
    local token; token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$token,local-admin,local-admin,\"system:masters\"" > tokens.csv
    echo "$token" > admin-token.tmp && mv admin-token.tmp admin-token
  )
}

# start NAME CMD...: runs CMD detached (own session, survives make), records its pid.
start() {
  local name=$1; shift
  mkdir -p "$logs"
  setsid "$@" >"$logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$LOCAL_DIR/$name.pid"
  log "started $name (pid $!, log $logs/$name.log)"
}

start_etcd() {
  pid_alive etcd && return
  mkdir -p "$state/etcd"
  start etcd "$1/etcd" \
    --name=local --data-dir="$state/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true
}

start_apiserver() {
  pid_alive kube-apiserver && return
  # Flags follow controller-runtime's envtest, plus a static admin token.
  start kube-apiserver "$1/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$state/apiserver.crt" --tls-private-key-file="$state/apiserver.key" \
    --cert-dir="$state" \
    --service-account-issuer="$api_url/" \
    --service-account-key-file="$state/sa.pub" \
    --service-account-signing-key-file="$state/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --token-auth-file="$state/tokens.csv" \
    --authorization-mode=RBAC \
    --enable-admission-plugins=OwnerReferencesPermissionEnforcement \
    --disable-admission-plugins=ServiceAccount \
    --endpoint-reconciler-type=none \
    --allow-privileged=true
}

# start_controller_manager runs the garbage collector and the namespace
# controller as the admin, on loopback only (no serving port at all).
start_controller_manager() {
  pid_alive kube-controller-manager && return
  start kube-controller-manager "$1/kube-controller-manager" \
    --kubeconfig="$kubeconfig" \
    --controllers=garbage-collector-controller,namespace-controller \
    --use-service-account-credentials=false \
    --leader-elect=false \
    --secure-port=0 --bind-address=127.0.0.1
}

wait_ready() {
  local deadline=$((SECONDS + 120))
  log "waiting for $api_url/readyz"
  until api_ready; do
    pid_alive etcd || die "etcd exited; see $logs/etcd.log"
    pid_alive kube-apiserver || die "kube-apiserver exited; see $logs/kube-apiserver.log"
    ((SECONDS < deadline)) || die "kube-apiserver not ready after 120s; see $logs/kube-apiserver.log"
    sleep 1
  done
}

write_kubeconfig() {
  umask 077
  cat > "$kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $api_url
    certificate-authority: $state/ca.crt
users:
- name: local-admin
  user:
    token: $(cat "$state/admin-token")
contexts:
- name: local
  context: {cluster: local, user: local-admin, namespace: default}
current-context: local
EOF
  mv "$kubeconfig.tmp" "$kubeconfig"
}

# install_crds server-side-applies every CRD under config/crd/bases with curl,
# so no kubectl is needed; re-applying is harmless.
install_crds() {
  local f name
  for f in "$repo_root"/config/crd/bases/*.yaml; do
    name=$(awk '/^metadata:/ {m=1; next} m && /^  name:/ {print $2; exit}' "$f")
    [[ -n "$name" ]] || die "no metadata.name in $f"
    curl -sSf --max-time 30 --cacert "$state/ca.crt" \
      -H "Authorization: Bearer $(cat "$state/admin-token")" \
      -H "Content-Type: application/apply-patch+yaml" -X PATCH --data-binary "@$f" \
      "$api_url/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name?fieldManager=local-cluster&force=true" \
      >/dev/null || die "installing CRD $name from $f failed"
    log "CRD $name installed"
  done
  # Wait until the CRDs are served, so the next command can use them.
  for f in "$repo_root"/config/crd/bases/*.yaml; do
    name=$(awk '/^metadata:/ {m=1; next} m && /^  name:/ {print $2; exit}' "$f")
    local i
    for i in $(seq 60); do
      curl -sf --max-time 5 --cacert "$state/ca.crt" -H "Authorization: Bearer $(cat "$state/admin-token")" \
        "$api_url/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" |
        tr -d ' \n' | grep -q '"type":"Established","status":"True"' && break
      sleep 0.5
    done
  done
}

up() {
  mkdir -p "$LOCAL_DIR"
  if pid_alive etcd && pid_alive kube-apiserver && api_ready; then
    write_kubeconfig
    # A control plane started before kube-controller-manager was part of it.
    pid_alive kube-controller-manager || start_controller_manager "$(assets_dir)"
    tr '\0' ' ' < "/proc/$(cat "$LOCAL_DIR/kube-apiserver.pid")/cmdline" | grep -q OwnerReferencesPermissionEnforcement ||
      log "warning: this kube-apiserver predates admission enforcement; restart it: make local-cluster-down local-cluster"
    install_crds
    log "already running at $api_url"
    echo "export KUBECONFIG=$kubeconfig"
    return
  fi
  local bin; bin=$(assets_dir)
  gen_certs
  start_etcd "$bin"
  start_apiserver "$bin"
  wait_ready
  write_kubeconfig
  install_crds
  start_controller_manager "$bin"
  log "control plane ready at $api_url (stop it with: make local-cluster-down)"
  echo "export KUBECONFIG=$kubeconfig"
}

# stop NAME: SIGTERM the recorded pid, SIGKILL after 10s, remove the pid file.
stop() {
  local f="$LOCAL_DIR/$1.pid" pid
  [[ -s "$f" ]] || return 0
  pid=$(cat "$f")
  if pid_alive "$1"; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

down() {
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
}

status() {
  local n
  for n in etcd kube-apiserver kube-controller-manager; do
    if pid_alive "$n"; then echo "$n: running (pid $(cat "$LOCAL_DIR/$n.pid"))"; else echo "$n: stopped"; fi
  done
  if api_ready; then echo "api: ready at $api_url"; else echo "api: not ready"; fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 [up|down|status]" ;;
esac
