#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for this workspace: the Debian packages the stack and the test
# suites use, k6, then the npm dependencies. Safe to re-run: installs only what is missing.
# README command (1), README command (2) and .ci/run all start here, so there is one way to set up.
#
#   bash tools/scripts/setup.sh [--without=PART[,PART...]]
#
# Parts (all by default):
#   services   postgresql redis-server         (GitHub Actions uses service containers instead)
#   chromium   chromium                        (GitHub Actions uses Playwright's own browser)
#   engines    buildah podman runc skopeo docker-registry   (image builds, local registry, deploy)
#   k6         k6 v1.4.2 via tools/scripts/install-k6.sh (PATH, Go bin dir, else `go install`)
#   npm        npm ci (skipped when node_modules already matches package-lock.json)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

K6_VERSION=v1.4.2
all_parts=(services chromium engines k6 npm)
declare -A skip=()

log() { printf 'setup: %s\n' "$*"; }
fail() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
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
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) fail "unknown argument \"$arg\". Usage: bash tools/scripts/setup.sh [--without=services,chromium,engines,k6,npm]" ;;
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
wants engines && packages+=(buildah podman runc skopeo docker-registry)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} > 0)); then
  command -v apt-get >/dev/null 2>&1 ||
    fail "apt-get not found: this script sets up Debian/Ubuntu. Install these yourself: ${missing[*]}."
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
elif ((${#packages[@]} > 0)); then
  log "Debian packages present: ${packages[*]}"
fi

# --- k6 --------------------------------------------------------------------------------------
if wants k6; then
  if [[ -f tools/scripts/install-k6.sh ]]; then
    # The smoke executor's own lookup and pinned install (K6_BIN, PATH, Go bin dir, else go install).
    log "k6: $(bash tools/scripts/install-k6.sh)"
  elif command -v k6 >/dev/null 2>&1; then
    log "k6: $(command -v k6)"
  else
    command -v go >/dev/null 2>&1 ||
      fail "k6 is missing and so is Go to build it. Install Go 1.24+ (https://go.dev/dl/) and re-run, or skip k6 with --without=k6."
    log "installing k6 $K6_VERSION with go install (a few minutes on a cold module cache)"
    go install "go.k6.io/k6@$K6_VERSION"
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
    npm ci --no-audit --no-fund
    printf '%s\n' "$lock_hash" >"$lock_stamp"
  fi
fi

log "done"
