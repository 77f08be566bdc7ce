#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance)
# against mcp-operator's OAuth client, ./test/conformance/client.
#
# For every client scenario the suite starts a mock MCP server and a mock
# authorization server on loopback, runs the client with the server URL as its
# last argument (scenario in MCP_CONFORMANCE_SCENARIO, spec version in
# MCP_CONFORMANCE_PROTOCOL_VERSION, extra data as JSON in
# MCP_CONFORMANCE_CONTEXT) and grades every request it sees. What the client
# must do per scenario: test/conformance/README.md.
#
# Runs (in this order; each one is a single suite process, its scenarios run
# in parallel inside it):
#   auth@2025-11-25   conformance client --suite auth --spec-version 2025-11-25
#   auth@2026-07-28   conformance client --suite auth --spec-version 2026-07-28
#   draft             conformance client --suite draft --spec-version 2026-07-28,
#                     graded on its auth/* scenarios only
#   backcompat        conformance client --suite backcompat
#   extensions        conformance client --suite extensions  (only with
#                     CONFORMANCE_EXTENSIONS=1)
#
# Node 22 (the suite does not run on Node 20; hack/lib/node.sh) and the
# suite, pinned by test/conformance/package.json + package-lock.json, are
# installed with npm into a cache outside the repository; a second run finds
# them and installs nothing. Only npm (any Node >= 18) is needed on the machine.
#
# Exit status: 0 when every scenario passed or failed as listed in
# test/conformance/expected-failures.txt; 1 on any unexpected failure, any
# listed failure that now passes (stale entry), or a harness error (install,
# client build, suite crash); 2 on a usage or expected-failures syntax error.
#
# Usage: hack/conformance.sh [all|install|run]      (default: all)
#   install  install Node 22 and the suite into the cache, print the paths
#   run      build the client and run the suites (installs first if needed)
#   all      same as run
# Environment:
#   MCP_OPERATOR_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator)
#   CONFORMANCE_RUNS        space-separated subset of the runs above
#   CONFORMANCE_EXTENSIONS  1 adds the extensions run
#   CONFORMANCE_CLIENT      client command to test instead of building
#                           ./test/conformance/client (the suite splits it on
#                           spaces: arguments are fine, spaces in a path not)
#   CONFORMANCE_TIMEOUT_MS  per-scenario timeout (default 30000)
#   CONFORMANCE_KEEP=1      keep the work directory (logs, checks.json) even on success
#   CONFORMANCE_VERBOSE=1   print the suite's own output too
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo_root/test/conformance"
expected_file="$harness/expected-failures.txt"

DRAFT_VERSION=2026-07-28
TIMEOUT_MS=${CONFORMANCE_TIMEOUT_MS:-30000}

log() { echo "conformance: $*" >&2; }
die() { echo "conformance: error: $*" >&2; exit 1; }

suite_version=$(sed -n 's|.*"@modelcontextprotocol/conformance": *"\([^"]*\)".*|\1|p' "$harness/package.json")
[[ -n "$suite_version" ]] || die "cannot read the suite version from $harness/package.json"

cache=${MCP_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-operator}
dir="$cache/conformance/$suite_version"
suite_dir="$dir/suite"
cli="$suite_dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"

# Node 22: hack/lib/node.sh (shared with hack/oidc-provider.sh).
# shellcheck source=hack/lib/node.sh
source "$repo_root/hack/lib/node.sh"
node=$node_bin

install_suite() {
  local stamp
  stamp=$(cat "$harness/package.json" "$harness/package-lock.json" | sha256sum | cut -c1-64)
  if [[ -f "$cli" && "$(cat "$suite_dir/.stamp" 2>/dev/null)" == "$stamp" ]]; then
    return
  fi
  command -v npm >/dev/null || die "npm not found: install Node.js (any version >= 18) with npm"
  log "installing @modelcontextprotocol/conformance@$suite_version (npm ci from test/conformance/package-lock.json) into $suite_dir"
  rm -rf "$suite_dir.tmp"
  mkdir -p "$suite_dir.tmp"
  cp "$harness/package.json" "$harness/package-lock.json" "$suite_dir.tmp/"
  # The suite's dependencies declare engines node>=22; npm running on an
  # older Node only warns, and the suite itself always runs on Node 22.
  (cd "$suite_dir.tmp" && npm_quiet ci --ignore-scripts --engine-strict=false >&2) ||
    die "npm ci of the conformance suite failed"
  echo "$stamp" >"$suite_dir.tmp/.stamp"
  rm -rf "$suite_dir"
  mv "$suite_dir.tmp" "$suite_dir"
}

install() {
  mkdir -p "$dir"
  # Serialise concurrent installs (two make targets, two worktrees).
  exec 9>"$dir/.lock"
  command -v flock >/dev/null && flock 9
  install_node || die "installing Node $NODE_VERSION failed"
  install_suite
  exec 9>&-
  local v
  v=$("$node" "$cli" --version 2>/dev/null) || die "the suite does not start with $node"
  [[ "$v" == "$suite_version" ]] || die "suite reports version $v, expected $suite_version"
}

suite() { "$node" "$cli" "$@"; }

# Scenarios tagged [extension] by `conformance list --client`: the only ones
# the expected-failures file may name (they are in no revision's required set).
extension_scenarios() {
  suite list --client | sed -n 's/^  - \([^ ]*\) \[extension\]$/\1/p'
}

# Parses expected-failures.txt into "<suite>/<scenario>" lines on stdout.
load_expected() {
  [[ -f "$expected_file" ]] || return 0
  local ext; ext=$(extension_scenarios)
  local n=0 line entry reason suite_name scenario bad=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    [[ "$line" =~ ^[[:space:]]*(#.*)?$ ]] && continue
    entry=$(sed 's/#.*//; s/[[:space:]]*$//; s/^[[:space:]]*//' <<<"$line")
    reason=$(sed -n 's/^[^#]*#[[:space:]]*//p' <<<"$line")
    suite_name=${entry%%/*}
    scenario=${entry#*/}
    if [[ "$entry" != */* || "$entry" =~ [[:space:]] ]]; then
      echo "conformance: $expected_file:$n: expected '<suite>/<scenario>  # reason', got: $line" >&2; bad=1; continue
    fi
    if [[ -z "$reason" ]]; then
      echo "conformance: $expected_file:$n: $entry has no '# reason'" >&2; bad=1; continue
    fi
    case "$suite_name" in auth | draft | backcompat | extensions) ;;
      *) echo "conformance: $expected_file:$n: unknown suite '$suite_name' (auth, draft, backcompat, extensions)" >&2; bad=1; continue ;;
    esac
    if ! grep -qxF -- "$scenario" <<<"$ext"; then
      echo "conformance: $expected_file:$n: $scenario is not an extension scenario; only scenarios outside the spec revisions' required sets (tagged [extension] by 'conformance list --client') may be expected to fail" >&2
      bad=1; continue
    fi
    echo "$suite_name/$scenario"
  done <"$expected_file"
  [[ $bad == 0 ]] || exit 2
}

build_client() {
  local out=$1
  if [[ -n "${CONFORMANCE_CLIENT:-}" ]]; then
    client_cmd=$CONFORMANCE_CLIENT
    log "client: $client_cmd (CONFORMANCE_CLIENT; not building ./test/conformance/client)"
    return
  fi
  if ! compgen -G "$harness/client/*.go" >/dev/null; then
    die "the conformance client ./test/conformance/client does not exist yet (a Go main package; see test/conformance/README.md)"
  fi
  log "building ./test/conformance/client"
  if ! (cd "$repo_root" && go build -o "$out" ./test/conformance/client); then
    die "building ./test/conformance/client failed (see the compiler output above)"
  fi
  client_cmd=$out
}

# run_args NAME: the suite arguments of one run.
run_args() {
  case "$1" in
    auth@*) echo "--suite auth --spec-version ${1#auth@}" ;;
    draft) echo "--suite draft --spec-version $DRAFT_VERSION" ;;
    backcompat) echo "--suite backcompat" ;;
    extensions) echo "--suite extensions" ;;
    *) echo "conformance: unknown run '$1' (auth@<spec-version>, draft, backcompat, extensions)" >&2; exit 2 ;;
  esac
}

run() {
  install
  local expected; expected=$(load_expected)

  work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-operator-conformance.XXXXXX")
  keep_work=${CONFORMANCE_KEEP:-0}
  trap 'if [[ $keep_work != 1 ]]; then rm -rf "$work"; fi' EXIT
  build_client "$work/mcp-operator-conformance-client"
  [[ "$client_cmd" != *" "* || -n "${CONFORMANCE_CLIENT:-}" ]] ||
    die "the client path '$client_cmd' contains a space; the suite splits --command on spaces (set TMPDIR)"

  local runs=${CONFORMANCE_RUNS:-"auth@2025-11-25 auth@$DRAFT_VERSION draft backcompat"}
  if [[ "${CONFORMANCE_EXTENSIONS:-}" == 1 && " $runs " != *" extensions "* ]]; then runs="$runs extensions"; fi

  local total_pass=0 total_fail=0 total_xfail=0 failed_lines="" xfail_lines="" rc
  local r args logf start secs summary
  for r in $runs; do
    args=$(run_args "$r")
    logf="$work/${r//@/-}.log"
    start=$SECONDS
    rc=0
    # shellcheck disable=SC2086 # args is a list of flags without spaces in values
    (cd "$work" && timeout 900 "$node" "$cli" client --command "$client_cmd" $args \
      --timeout "$TIMEOUT_MS" --verbose -o "$work/results/${r//@/-}") >"$logf" 2>&1 || rc=$?
    secs=$((SECONDS - start))
    [[ "${CONFORMANCE_VERBOSE:-}" == 1 ]] && cat "$logf" >&2
    if [[ $rc -gt 1 ]] || ! grep -q '^=== SUITE SUMMARY ===$' "$logf"; then
      keep_work=1
      tail -n 30 "$logf" >&2
      die "suite run '$r' crashed (exit $rc); full log: $logf"
    fi
    # Grade: one line per scenario "<status> <scenario> <detail>".
    summary=$(awk -v run="$r" -v expected="$expected" '
      BEGIN {
        split(run, p, "@"); suite = p[1]
        n = split(expected, e, "\n"); for (i = 1; i <= n; i++) if (e[i] != "") xf[e[i]] = 1
      }
      /^=== SUITE SUMMARY ===$/ { on = 1; next }
      !on { next }
      /^Total: / { on = 0; next }
      {
        if (match($0, /^[^ ]+ [^ ]+: [0-9]+ passed, [0-9]+ failed/)) {
          flush()
          line = $0; sub(/^[^ ]+ /, "", line)
          name = line; sub(/: .*/, "", name)
          detail = line; sub(/^[^:]*: /, "", detail)
          ok = ($1 == "\342\234\223")            # U+2713 check mark
          if (ok && detail ~ /^0 passed, 0 failed/) { ok = 0; detail = detail " (no checks recorded)" }
          cur = name; checks = ""; next
        }
        if ($0 ~ /^- [^ ]+: skipped$/) {
          flush(); name = $2; sub(/:$/, "", name)
          cur = name; ok = 0; detail = "skipped (not applicable at this spec version)"; checks = ""; next
        }
        if (cur != "" && $0 ~ /^    - /) { c = $0; sub(/^    - /, "", c); checks = checks "\n      " c }
      }
      function flush() {
        if (cur == "") return
        if (suite == "draft" && cur !~ /^auth\//) { cur = ""; return }
        key = suite "/" cur
        if (ok && (key in xf)) st = "XPASS"; else if (ok) st = "PASS"; else if (key in xf) st = "XFAIL"; else st = "FAIL"
        printf "%s %s %s%s\n", st, cur, detail, (st == "FAIL" ? checks : "")
        cur = ""
      }
      END { flush() }
    ' "$logf")
    local p f x
    p=$(grep -c '^PASS ' <<<"$summary" || true)
    f=$(grep -cE '^(FAIL|XPASS) ' <<<"$summary" || true)
    x=$(grep -c '^XFAIL ' <<<"$summary" || true)
    if [[ $((p + f + x)) == 0 ]]; then
      keep_work=1
      tail -n 30 "$logf" >&2
      die "suite run '$r' graded no scenario; full log: $logf"
    fi
    log "$r: $((p + f + x)) scenarios, $p passed, $f failed, $x expected failures (${secs}s)"
    local line last=""
    while IFS= read -r line; do
      case "$line" in
        "FAIL "*) failed_lines+="  FAIL  $r ${line#FAIL }"$'\n'; last=FAIL ;;
        "XPASS "*) failed_lines+="  STALE $r ${line#XPASS } -- listed in expected-failures.txt but passes now: remove the entry"$'\n'; last="" ;;
        "XFAIL "*) xfail_lines+="  XFAIL $r ${line#XFAIL }"$'\n'; last="" ;;
        "      "*) if [[ $last == FAIL ]]; then failed_lines+="$line"$'\n'; fi ;;
        *) last="" ;;
      esac
    done <<<"$summary"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_xfail=$((total_xfail + x))
  done

  [[ -n "$xfail_lines" ]] && printf 'conformance: expected failures (test/conformance/expected-failures.txt):\n%s' "$xfail_lines" >&2
  if [[ $total_fail -gt 0 ]]; then
    keep_work=1
    printf 'conformance: unexpected results:\n%s' "$failed_lines" >&2
    log "logs, and per scenario checks.json / client stdout.txt / stderr.txt: $work"
    echo "conformance: $total_pass passed, $total_fail failed"
    return 1
  fi
  if [[ $keep_work == 1 ]]; then log "kept $work"; fi
  echo "conformance: $total_pass passed, $total_fail failed"
}

case "${1:-all}" in
  install)
    install
    echo "node:  $node ($("$node" --version))"
    echo "suite: $cli ($suite_version)"
    ;;
  run | all) run ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) echo "usage: $0 [all|install|run]" >&2; exit 2 ;;
esac
