#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for this workspace: the Debian packages the stack and the test
# suites use, a pinned Go toolchain, k6, the cluster binaries and kubectl, then the npm dependencies.
# Safe to re-run: installs only what is missing. README command (1), README command (2) and .ci/run
# all start here, so there is one way to set up. It prints progress lines only; the full output of
# every step goes to .local/setup.log.
#
#   bash tools/scripts/setup.sh [--without=PART[,PART...]]
#
# Parts (all by default):
#   services   postgresql redis-server         (GitHub Actions uses service containers instead)
#   chromium   chromium                        (GitHub Actions uses Playwright's own browser)
#   engines    buildah podman runc catatonit skopeo docker-registry busybox-static
#              (image builds, local registry, deploy; catatonit is the pause process of podman's
#              pods, only a Recommends of podman, missing on machines set up without them; busybox-static is the
#              shell of the local base image and the workload-health tests' image)
#   docker     docker.io runc qemu-user-static binfmt-support, then the pinned buildx and buildkitd that
#              tools/scripts/docker.sh runs (built once per machine by go-tool.sh)
#   go         Go 1.24+: `go` on PATH when new enough, else the pinned official toolchain module
#              (tools/scripts/lib/go-toolchain.sh) fetched with Debian's golang-go
#   k6         k6 v1.4.2 via tools/scripts/install-k6.sh (PATH, Go bin dir, else `go install`)
#   cluster    etcd-server containerd runc containernetworking-plugins iptables nftables conntrack
#              openssl iproute2, then `tools/scripts/cluster.sh build` (Kubernetes v1.33.13, CoreDNS,
#              crictl, pause; cached per machine), `tools/scripts/argocd.sh build` (Argo CD v3.1.16,
#              kustomize), and kubectl v1.33.13 from that cache on PATH
#              (/usr/local/bin/kubectl) when the machine has no kubectl at all
#   supply-chain  cosign, syft, gitleaks at the versions in tools/scripts/supply-chain-tools.txt
#              (go-tool.sh: built once per machine) and the local cosign key pair in .local/cosign
#   npm        npm ci (skipped when node_modules already matches package-lock.json)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"
# shellcheck source=lib/go-toolchain.sh
source "$repo_root/tools/scripts/lib/go-toolchain.sh"

K6_VERSION=v1.4.2
all_parts=(services chromium engines docker go k6 cluster supply-chain npm)
declare -A skip=()
mkdir -p .local
setup_log="$repo_root/.local/setup.log"
printf '== setup %s\n' "$(date -u +%FT%TZ)" >>"$setup_log"

log() { printf 'setup: %s\n' "$*"; }
fail() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
}
# Run a step with its output in the log; on failure show the log's tail and stop.
logged() {
  local what="$1"
  shift
  printf '\n== %s: %s\n' "$what" "$*" >>"$setup_log"
  if ! "$@" >>"$setup_log" 2>&1; then
    tail -n 25 "$setup_log" >&2
    fail "$what failed (last lines above; full log: $setup_log)."
  fi
}

for arg in "$@"; do
  case "$arg" in
    --without=*)
      IFS=, read -r -a parts <<<"${arg#--without=}"
      for part in "${parts[@]}"; do
        [[ " ${all_parts[*]} " == *" $part "* ]] ||
          fail "unknown part \"$part\" in $arg. Known parts: ${all_parts[*]}."
        skip[$part]=1
      done
      ;;
    -h | --help)
      sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown argument \"$arg\". Usage: bash tools/scripts/setup.sh [--without=$(
      IFS=,
      echo "${all_parts[*]}"
    )]" ;;
  esac
done
wants() { [[ -z "${skip[$1]:-}" ]]; }

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fail "installing Debian packages needs root: run as root or install sudo (wanted: $*)."
  fi
}

# --- Debian packages -------------------------------------------------------------------------
packages=()
wants services && packages+=(postgresql redis-server)
wants chromium && packages+=(chromium)
wants engines && packages+=(buildah podman runc catatonit skopeo docker-registry busybox-static)
# Docker Engine (dockerd + CLI) and QEMU user emulation for multi-platform builds.
wants docker && packages+=(docker.io runc qemu-user-static binfmt-support)
wants cluster && packages+=(etcd-server etcd-client containerd runc containernetworking-plugins iptables nftables conntrack openssl iproute2 docker-registry)
# Debian's golang-go (1.19 on bookworm) only bootstraps the pinned toolchain when no Go 1.24+ exists.
if { wants go || wants k6 || wants cluster || wants supply-chain || wants docker; } && ! slipway_use_go; then packages+=(golang-go ca-certificates); fi
# Once each (engines, docker and cluster share runc); nothing at all when every part is skipped.
if ((${#packages[@]} > 0)); then mapfile -t packages < <(printf '%s\n' "${packages[@]}" | awk '!seen[$0]++'); fi

not_installed() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}
mapfile -t missing < <(not_installed "${packages[@]}")
mapfile -t lean_missing < <(not_installed "${lean_packages[@]}")
if ((${#missing[@]} + ${#lean_missing[@]} > 0)); then
  command -v apt-get >/dev/null 2>&1 ||
    fail "apt-get not found: this script sets up Debian/Ubuntu. Install these yourself: ${missing[*]}."
  log "installing Debian packages: ${missing[*]}"
  logged "apt-get update" as_root apt-get update -q
  logged "apt-get install" as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
elif ((${#packages[@]} > 0)); then
  log "Debian packages present: ${packages[*]}"
fi

# --- Go 1.24+ -------------------------------------------------------------------------------
if wants go || wants k6 || wants cluster || wants supply-chain || wants docker; then
  if ! slipway_use_go; then
    log "fetching the Go toolchain $SLIPWAY_GO_VERSION (golang.org/toolchain, checksummed) with $(go version 2>/dev/null || echo 'no go')"
    logged "Go toolchain download" slipway_fetch_go
    slipway_use_go || fail "the Go toolchain $SLIPWAY_GO_VERSION did not land in $(slipway_go_toolchain_dir)."
  fi
  log "go: $(go version) ($(command -v go))"
fi

# --- buildx and buildkitd (Go-built, pinned in tools/scripts/docker.sh) ---------------------------
if wants docker; then
  docker_tools="$(bash tools/scripts/docker.sh tools 2>>"$setup_log")" || fail "building buildx and buildkitd failed (full log: $setup_log)."
  log "docker: $docker_tools"
fi

# --- k6 --------------------------------------------------------------------------------------
if wants k6; then
  if [[ -f tools/scripts/install-k6.sh ]]; then
    # The smoke executor's own lookup and pinned install (K6_BIN, PATH, Go bin dir, else go install).
    k6_path="$(bash tools/scripts/install-k6.sh 2>>"$setup_log")" || fail "installing k6 failed (full log: $setup_log)."
    log "k6: $k6_path"
  elif command -v k6 >/dev/null 2>&1; then
    log "k6: $(command -v k6)"
  else
    command -v go >/dev/null 2>&1 ||
      fail "k6 is missing and so is Go to build it. Install Go 1.24+ (https://go.dev/dl/) and re-run, or skip k6 with --without=k6."
    log "installing k6 $K6_VERSION with go install (a few minutes on a cold module cache)"
    logged "go install k6" go install "go.k6.io/k6@$K6_VERSION"
  fi
fi

# --- cluster binaries and kubectl --------------------------------------------------------------
if wants cluster; then
  log "cluster binaries: tools/scripts/cluster.sh build (about 8 min once per machine, then cached)"
  logged "cluster build" bash tools/scripts/cluster.sh build
  log "Argo CD: tools/scripts/argocd.sh build (about 5 min once per machine, then cached)"
  logged "Argo CD build" bash tools/scripts/argocd.sh build
  grep '^cluster: ' "$setup_log" | tail -n 4 | sed 's/^/setup: /'
  if ! command -v kubectl >/dev/null 2>&1; then
    kubectl_cached="${SLIPWAY_K8S_CACHE:-$HOME/.cache/slipway}/kubernetes-v1.33.13/kubectl"
    as_root ln -sf "$kubectl_cached" /usr/local/bin/kubectl
    log "kubectl: /usr/local/bin/kubectl -> $kubectl_cached"
  else
    log "kubectl: $(command -v kubectl) (the cluster scripts use $HOME/.cache/slipway/kubernetes-v1.33.13/kubectl)"
  fi
fi

# --- supply-chain tools and the local signing key ---------------------------------------------
if wants supply-chain; then
  while read -r name package version; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    # Assigned first so that a failed build stops the setup (set -e ignores failures inside "$(...)" arguments).
    tool_path="$(bash tools/scripts/go-tool.sh "$name" "$package" "$version")"
    log "$name: $tool_path"
  done <tools/scripts/supply-chain-tools.txt
  # Keyless signing in GitHub Actions needs no key; locally the image executor signs with this one.
  if [[ "${GITHUB_ACTIONS:-}" != "true" ]]; then
    signing_key="$(bash tools/scripts/local-signing-key.sh)"
    log "local signing key: $signing_key"
  fi
fi

# --- npm dependencies --------------------------------------------------------------------------
if wants npm; then
  command -v node >/dev/null 2>&1 || fail "node is missing. Install Node.js 20.19+ (https://nodejs.org) and re-run."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    fail "Node.js $(node --version) is too old: this workspace needs 20.19 or newer."
  lock_stamp=node_modules/.slipway-package-lock.sha256
  lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ -f "$lock_stamp" && "$(cat "$lock_stamp")" == "$lock_hash" ]]; then
    log "node_modules matches package-lock.json: skipping npm ci"
  else
    log "npm ci"
    logged "npm ci" npm ci --no-audit --no-fund
    printf '%s\n' "$lock_hash" >"$lock_stamp"
  fi
fi

log "done"
