#!/usr/bin/env bash
# Argo CD v3.1.16 (application controller + repo-server, with a Redis of its own) beside a Kubernetes
# cluster, for gitops-mode releases on this machine.
#
#   tools/scripts/argocd.sh build                        build (or reuse) the cached binaries; prints the argocd path
#   tools/scripts/argocd.sh start  [--kubeconfig PATH]   apply CRDs + namespace, start redis, repo-server, controller
#   tools/scripts/argocd.sh status [--kubeconfig PATH]   say what runs; 0 = all three up
#   tools/scripts/argocd.sh stop                         stop what start started, by PID; remove the state dir
#
# Build: Argo CD is one multicall binary (`go build github.com/argoproj/argo-cd/v3/cmd`) that acts by
# its file name. Its go.mod pins k8s.io/* and a few others through `replace`, which `go install` refuses,
# so a generated wrapper module requires argo-cd at the pinned version and copies argo-cd's own replace
# block (all of them module@version, no local paths). The binary is cached per machine outside the
# repository ($ARGOCD_CACHE, default ~/.cache/slipway/argocd-v3.1.16/) so clones and CI runs reuse it;
# a failed build leaves no half-written binary. kustomize (the repo-server renders Kustomize sources
# with it) comes from tools/scripts/go-tool.sh at a pinned version.
#
# Start: the API server only listens on 127.0.0.1, so the components run on the host with
# ARGOCD_FAKE_IN_CLUSTER=true and the cluster's kubeconfig (never the user's own: the path is an input,
# default .local/cluster/kubeconfig). Every listener is on a free 127.0.0.1 port except the
# controller's metrics listener, which Argo CD binds on all interfaces with no flag to change it (we
# do not patch upstream). The components talk in plaintext on loopback (repo-server --disable-tls,
# controller --repo-server-plaintext). State, logs and PID files live in $ARGOCD_STATE_DIR (default
# .local/argocd/); `stop` kills by PID and removes it. The CRDs come from the same Argo CD module
# (manifests/crds in the Go module cache), so their schema matches the controller.
#
# Environment (defaults in brackets):
#   ARGOCD_CACHE             binary cache            [~/.cache/slipway/argocd-v3.1.16]
#   ARGOCD_STATE_DIR         state, logs, pid files  [<repo>/.local/argocd]
#   ARGOCD_KUBECONFIG        kubeconfig (or --kubeconfig)  [<repo>/.local/cluster/kubeconfig]
#   ARGOCD_KUBECTL           kubectl binary [$CLUSTER_KUBECTL, else kubectl on PATH]
#   ARGOCD_NAMESPACE         namespace of its Applications and settings [argocd]
#   ARGOCD_WAIT_SECONDS      readiness deadline per component [90]
set -euo pipefail

argocd_version=v3.1.16
argocd_module=github.com/argoproj/argo-cd/v3
kustomize_version=v5.7.0

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache_dir="${ARGOCD_CACHE:-$HOME/.cache/slipway/argocd-$argocd_version}"
binary="$cache_dir/argocd"
state_dir="${ARGOCD_STATE_DIR:-$repo_root/.local/argocd}"
kubeconfig="${ARGOCD_KUBECONFIG:-$repo_root/.local/cluster/kubeconfig}"
wait_seconds="${ARGOCD_WAIT_SECONDS:-90}"
namespace="${ARGOCD_NAMESPACE:-argocd}"

say() { printf 'argocd: %s\n' "$*" >&2; }
fail() {
  printf 'argocd: error: %s\n' "$*" >&2
  exit 1
}

[[ "$wait_seconds" =~ ^[0-9]+$ ]] || fail "ARGOCD_WAIT_SECONDS=\"$wait_seconds\" is not a number of seconds."
[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  fail "ARGOCD_NAMESPACE=\"$namespace\" is not a Kubernetes namespace name (lowercase letters, digits, '-')."


module_dir() {
  GOFLAGS=-mod=mod go mod download -json "$argocd_module@$argocd_version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# The wrapper module: require argo-cd, and its own replace block verbatim (module => module version).
write_wrapper() {
  local wrapper="$1" src="$2"
  {
    printf 'module slipway.local/argocd-build\n\n'
    # The Go version argo-cd declares: keeps its GODEBUG defaults for the built main package.
    grep -m1 '^go ' "$src/go.mod"
    printf '\nrequire %s %s\n\n' "$argocd_module" "$argocd_version"
    sed -n '/^replace (/,/^)/p' "$src/go.mod"
  } >"$wrapper/go.mod"
  if grep -Eq '=>[[:space:]]*(\.|/)' "$wrapper/go.mod"; then
    fail "argo-cd $argocd_version replaces a module with a local directory; a wrapper module cannot build it (pick a 3.1.x version)."
  fi
}

cmd_build() {
  if [[ -x "$binary" ]]; then
    printf '%s\n' "$binary"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    fail "Argo CD $argocd_version is not built yet and Go is missing: run bash tools/scripts/setup.sh (it installs a pinned Go toolchain)."
  mkdir -p "$cache_dir"
  local staging src started
  staging="$(mktemp -d "$cache_dir/.build.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this build's staging dir.
  trap "rm -rf '$staging'" EXIT
  started=$(date +%s)
  say "downloading $argocd_module@$argocd_version"
  src="$(module_dir)"
  [[ -n "$src" && -f "$src/go.mod" ]] || fail "could not download $argocd_module@$argocd_version from the Go module proxy (GOPROXY=$(go env GOPROXY))."
  mkdir -p "$staging/wrapper"
  write_wrapper "$staging/wrapper" "$src"
  say "resolving the wrapper module ($(grep -c '=>' "$staging/wrapper/go.mod") replaces)"
  (cd "$staging/wrapper" && GOFLAGS=-mod=mod go get "$argocd_module/cmd@$argocd_version" >&2) ||
    fail "go get $argocd_module/cmd@$argocd_version failed in the wrapper module (output above)."
  say "building $argocd_module/cmd (about 5 minutes on an empty build cache)"
  local pkg="$argocd_module/common"
  (cd "$staging/wrapper" && CGO_ENABLED=0 nice go build -trimpath \
    -ldflags "-s -w -X $pkg.version=${argocd_version#v} -X $pkg.gitTag=$argocd_version -X $pkg.gitTreeState=clean" \
    -o "$staging/argocd" "$argocd_module/cmd" >&2) ||
    fail "go build $argocd_module/cmd failed (output above)."
  cp "$staging/wrapper/go.mod" "$cache_dir/wrapper.go.mod"
  mv "$staging/argocd" "$binary"
  say "built $binary in $(($(date +%s) - started)) s"
  printf '%s\n' "$binary"
}

# ---------------------------------------------------------------------------------------------------
# start / stop / status

components=(redis repo-server controller)
pid_file() { printf '%s/%s.pid' "$state_dir" "$1"; }
running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

# kubectl: $ARGOCD_KUBECTL, else the cluster's own (CLUSTER_KUBECTL, from the environment or the env
# file cluster.sh writes beside the kubeconfig: a client of the server's version), else PATH's.
kubectl_bin() {
  local from_env_file=""
  [[ -f "$(dirname "$kubeconfig")/env" ]] &&
    from_env_file="$(sed -n 's/^export CLUSTER_KUBECTL=//p' "$(dirname "$kubeconfig")/env")"
  if [[ -n "${ARGOCD_KUBECTL:-}" ]]; then
    printf '%s\n' "$ARGOCD_KUBECTL"
  elif [[ -n "${CLUSTER_KUBECTL:-}" && -x "${CLUSTER_KUBECTL:-}" ]]; then
    printf '%s\n' "$CLUSTER_KUBECTL"
  elif [[ -n "$from_env_file" && -x "$from_env_file" ]]; then
    printf '%s\n' "$from_env_file"
  elif command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
  else
    fail "kubectl is not installed: run bash tools/scripts/setup.sh, or set ARGOCD_KUBECTL=<path to kubectl>."
  fi
}
kube() { "$(kubectl_bin)" --kubeconfig "$kubeconfig" "$@"; }

# N free loopback TCP ports, chosen by the kernel (bind port 0), printed one a line.
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    const next = () => {
      if (servers.length === n) {
        console.log(servers.map((s) => s.address().port).join("\n"));
        servers.forEach((s) => s.close());
        return;
      }
      const s = net.createServer().listen(0, "127.0.0.1", () => { servers.push(s); next(); });
    };
    next();' "$1"
}

# `kubectl wait --for=condition=Established` errors out on a CRD created a moment ago (no conditions
# yet): poll the condition instead.
crds_established() {
  local crd
  for crd in applications.argoproj.io appprojects.argoproj.io; do
    [[ "$(kube get crd "$crd" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" == True ]] ||
      return 1
  done
}

wait_until() {
  local seconds="$1" what="$2" started
  shift 2
  started=$(date +%s)
  until "$@"; do
    (($(date +%s) - started < seconds)) || fail "timed out after $seconds s waiting for $what."
    sleep 0.3
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
redis_answers() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

# wait_for <name> <seconds> <command...>: poll until the command succeeds or the component exits.
wait_for() {
  local name="$1" seconds="$2" started pid
  shift 2
  started=$(date +%s)
  until "$@"; do
    pid="$(running_pid "$name" || true)"
    if [[ -z "$pid" ]]; then
      tail -n 20 "$state_dir/logs/$name.log" >&2 || true
      cmd_stop >/dev/null 2>&1 || true
      fail "$name exited during start (log above, full log: $state_dir/logs/$name.log); nothing is left running."
    fi
    if (($(date +%s) - started >= seconds)); then
      tail -n 20 "$state_dir/logs/$name.log" >&2 || true
      cmd_stop >/dev/null 2>&1 || true
      fail "$name did not become ready within $seconds s (log above: $state_dir/logs/$name.log); raise ARGOCD_WAIT_SECONDS on a slow machine."
    fi
    sleep 0.3
  done
}

# launch <name> [VAR=value ...] -- <command...>: in its own session (so stop can end its children:
# git, kustomize), output to its log, PID recorded.
launch() {
  local name="$1"
  shift
  local envs=()
  while [[ "$1" != "--" ]]; do
    envs+=("$1")
    shift
  done
  shift
  env "${envs[@]}" setsid "$@" >"$state_dir/logs/$name.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$(pid_file "$name")"
}

parse_kubeconfig_flag() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
    --kubeconfig)
      [[ $# -ge 2 ]] || fail "--kubeconfig needs a path (e.g. --kubeconfig .local/cluster/kubeconfig)."
      kubeconfig="$2"
      shift 2
      ;;
    --kubeconfig=*)
      kubeconfig="${1#--kubeconfig=}"
      shift
      ;;
    *) fail "unknown argument \"$1\": the only option is --kubeconfig PATH." ;;
    esac
  done
  [[ -f "$kubeconfig" ]] ||
    fail "no kubeconfig at $kubeconfig: start the cluster first (bash tools/scripts/cluster.sh start) or pass --kubeconfig PATH."
  kubeconfig="$(cd "$(dirname "$kubeconfig")" && pwd)/$(basename "$kubeconfig")"
}

require_cluster() {
  kube get --raw /readyz --request-timeout=10s >/dev/null 2>&1 ||
    fail "the API server of $kubeconfig does not answer /readyz: start the cluster (bash tools/scripts/cluster.sh start) and retry."
}

# The namespace, the two settings objects Argo CD's settings manager reads (both may be empty), and
# the `default` AppProject (Argo CD's API server creates it in a full install; we do not run one).
apply_namespace_and_settings() {
  kube apply --server-side --field-manager=slipway-argocd -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $namespace
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: $namespace
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data: {}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: $namespace
  labels:
    app.kubernetes.io/name: argocd-secret
    app.kubernetes.io/part-of: argocd
type: Opaque
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: $namespace
spec:
  sourceRepos: ["*"]
  destinations: [{ server: "*", namespace: "*" }]
  clusterResourceWhitelist: [{ group: "*", kind: "*" }]
EOF
}

cmd_start() {
  parse_kubeconfig_flag "$@"
  local started c
  started=$(date +%s%N)
  if running_pid controller >/dev/null && running_pid repo-server >/dev/null && running_pid redis >/dev/null; then
    say "already running (state $state_dir): nothing to start"
    return 0
  fi
  # A half-started set (one component died) is stopped first so start is all-or-nothing.
  for c in "${components[@]}"; do
    if running_pid "$c" >/dev/null; then
      say "stopping a partial earlier start first"
      cmd_stop
      break
    fi
  done
  require_cluster
  command -v redis-server >/dev/null 2>&1 || fail "redis-server is not installed: run bash tools/scripts/setup.sh."
  command -v git >/dev/null 2>&1 || fail "git is not installed (the repo-server fetches with it)."
  command -v curl >/dev/null 2>&1 || fail "curl is not installed: run bash tools/scripts/setup.sh."
  local argocd kustomize src
  argocd="$(cmd_build)"
  kustomize="$(bash "$repo_root/tools/scripts/go-tool.sh" kustomize sigs.k8s.io/kustomize/kustomize/v5 "$kustomize_version")"
  src="$(module_dir)"
  [[ -d "$src/manifests/crds" ]] || fail "no manifests/crds in $src: the Go module cache is incomplete (go clean -modcache and retry)."

  rm -rf "$state_dir/tmp" "$state_dir/bin"
  mkdir -p "$state_dir/logs" "$state_dir/tmp" "$state_dir/bin" "$state_dir/redis"
  ln -s "$argocd" "$state_dir/bin/argocd-repo-server"
  ln -s "$argocd" "$state_dir/bin/argocd-application-controller"
  ln -s "$kustomize" "$state_dir/bin/kustomize"

  say "applying the Argo CD $argocd_version CRDs, namespace $namespace and settings"
  kube apply --server-side --force-conflicts --field-manager=slipway-argocd \
    -f "$src/manifests/crds/application-crd.yaml" -f "$src/manifests/crds/appproject-crd.yaml" >/dev/null
  wait_until 60 "the Argo CD CRDs to be established" crds_established
  apply_namespace_and_settings

  local ports redis_port repo_port repo_metrics_port controller_metrics_port
  mapfile -t ports < <(free_ports 4)
  redis_port="${ports[0]}" repo_port="${ports[1]}" repo_metrics_port="${ports[2]}" controller_metrics_port="${ports[3]}"

  launch redis -- redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$state_dir/redis"
  wait_for redis "$wait_seconds" redis_answers "$redis_port"

  local path="$state_dir/bin:$PATH"
  launch repo-server PATH="$path" TMPDIR="$state_dir/tmp" ARGOCD_GPG_ENABLED=false -- \
    "$state_dir/bin/argocd-repo-server" --address 127.0.0.1 --port "$repo_port" \
    --metrics-address 127.0.0.1 --metrics-port "$repo_metrics_port" --disable-tls \
    --redis "127.0.0.1:$redis_port" --logformat text
  wait_for repo-server "$wait_seconds" http_ok "http://127.0.0.1:$repo_metrics_port/healthz?full=true"

  # ARGOCD_FAKE_IN_CLUSTER: the in-cluster destination (https://kubernetes.default.svc) is reached
  # through $KUBECONFIG, since these processes run on the host, not in a pod. The controller's
  # metrics listener binds every interface (no flag changes that; we do not patch upstream).
  # --persist-resource-health: each resource's health and message land in the Application's
  # status.resources (off by default since 3.0), which is what a release reads to explain Degraded.
  launch controller PATH="$path" TMPDIR="$state_dir/tmp" KUBECONFIG="$kubeconfig" ARGOCD_FAKE_IN_CLUSTER=true -- \
    "$state_dir/bin/argocd-application-controller" --kubeconfig "$kubeconfig" --namespace "$namespace" \
    --repo-server "127.0.0.1:$repo_port" --repo-server-plaintext --redis "127.0.0.1:$redis_port" \
    --metrics-port "$controller_metrics_port" --app-resync 60 --self-heal-timeout-seconds 2 \
    --status-processors 4 --operation-processors 2 --persist-resource-health --logformat text
  wait_for controller "$wait_seconds" http_ok "http://127.0.0.1:$controller_metrics_port/healthz"

  cat >"$state_dir/env" <<EOF
# Written by tools/scripts/argocd.sh start; removed by stop.
ARGOCD_NAMESPACE=$namespace
ARGOCD_KUBECONFIG=$kubeconfig
ARGOCD_REDIS=127.0.0.1:$redis_port
ARGOCD_REPO_SERVER=127.0.0.1:$repo_port
ARGOCD_CONTROLLER_METRICS=http://127.0.0.1:$controller_metrics_port/metrics
EOF
  say "ready in $((($(date +%s%N) - started) / 1000000)) ms: controller, repo-server 127.0.0.1:$repo_port, redis 127.0.0.1:$redis_port (logs in $state_dir/logs)"
}

cmd_stop() {
  local stopped=() c pid
  # Controller first: it stops reconciling before its repo-server and cache go away.
  for c in controller repo-server redis; do
    pid="$(running_pid "$c" || true)"
    if [[ -n "$pid" ]]; then
      # Each runs in its own session (setsid): its process group holds its git/kustomize children.
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      if kill -0 "$pid" 2>/dev/null; then
        say "$c (pid $pid) ignored TERM for 10 s: killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
      stopped+=("$c")
    fi
    rm -f "$(pid_file "$c")"
  done
  rm -rf "$state_dir/tmp" "$state_dir/bin" "$state_dir/redis" "$state_dir/env"
  if [[ ${#stopped[@]} -eq 0 ]]; then
    say "nothing of ours was running"
  else
    say "stopped ${stopped[*]} (logs kept in $state_dir/logs)"
  fi
}

cmd_status() {
  local c pid down=0
  for c in "${components[@]}"; do
    if pid="$(running_pid "$c")"; then
      printf 'argocd: %-12s running (pid %s)\n' "$c" "$pid"
    else
      printf 'argocd: %-12s not running\n' "$c"
      down=1
    fi
  done
  [[ -f "$state_dir/env" ]] && sed -n 's/^\(ARGOCD_[A-Z_]*\)=/argocd: \1=/p' "$state_dir/env"
  return "$down"
}

case "${1:-}" in
build) cmd_build ;;
start)
  shift
  cmd_start "$@"
  ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) fail "usage: bash tools/scripts/argocd.sh build|start|stop|status [--kubeconfig PATH] (got \"${1:-}\")." ;;
esac
