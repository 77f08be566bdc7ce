#!/usr/bin/env bash
# Installs node-oidc-provider, the third-party authorization server of the
# tests (test/oidcprovider), and prints the directory the tests need in
# OIDC_PROVIDER_DIR: it holds `node` (Node 22, hack/lib/node.sh) and
# node_modules/ with the oidc-provider version pinned by
# test/oidcprovider/package.json + package-lock.json (`npm ci`, npm registry
# only). Everything goes into a cache outside the repository; a second run
# finds it and installs nothing, so tests never reach the network.
#
# Usage: hack/oidc-provider.sh            install if needed, print the directory
#        hack/oidc-provider.sh installed  print the directory if it is installed,
#                                         else fail; never installs (what the
#                                         tests run when OIDC_PROVIDER_DIR is unset)
# Environment: MCP_OPERATOR_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator)
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
pkg="$repo_root/test/oidcprovider"

die() { echo "oidc-provider: error: $*" >&2; exit 1; }

# shellcheck source=hack/lib/node.sh
source "$repo_root/hack/lib/node.sh"

version=$(sed -n 's|.*"oidc-provider": *"\([^"]*\)".*|\1|p' "$pkg/package.json" | head -n1)
[[ -n "$version" ]] || die "cannot read the oidc-provider version from $pkg/package.json"
dir="$node_cache/oidc-provider/$version"
stamp=$(cat "$pkg/package.json" "$pkg/package-lock.json" | sha256sum | cut -c1-64)

installed() {
  [[ -f "$dir/node_modules/oidc-provider/package.json" && "$(cat "$dir/.stamp" 2>/dev/null)" == "$stamp" ]] &&
    [[ "$(readlink "$dir/node")" == "$node_bin" ]]
}

case "${1:-install}" in
  install) ;;
  installed)
    installed || die "oidc-provider@$version is not installed in $dir: run hack/oidc-provider.sh (make oidc-provider)"
    echo "$dir"
    exit 0
    ;;
  *) echo "usage: $0 [install|installed]" >&2; exit 2 ;;
esac

if ! installed; then
  install_node || die "installing Node $NODE_VERSION failed"
  mkdir -p "$node_cache/oidc-provider"
  exec 9>"$node_cache/oidc-provider/.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if ! installed; then
    echo "oidc-provider: installing oidc-provider@$version (npm ci from test/oidcprovider/package-lock.json) into $dir" >&2
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    cp "$pkg/package.json" "$pkg/package-lock.json" "$dir.tmp/"
    (cd "$dir.tmp" && npm_quiet ci --ignore-scripts >&2) || die "npm ci of oidc-provider failed"
    ln -s "$node_bin" "$dir.tmp/node"
    echo "$stamp" >"$dir.tmp/.stamp"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  exec 9>&-
  installed || die "the installation in $dir is incomplete"
fi
echo "$dir"
