#!/usr/bin/env bash
# Make the local cosign key pair the image executor signs with and the local trust policy verifies
# with: .local/cosign/cosign.key (encrypted) and .local/cosign/cosign.pub. Idempotent: an existing
# pair is kept. .local/ is git-ignored: this pair is a throwaway for this machine only.
#
#   bash tools/scripts/local-signing-key.sh [directory]     (default .local/cosign)
#
# The password comes from SLIPWAY_COSIGN_PASSWORD; unset, it is "slipway-local", the documented
# default of this local key (README: Supply chain). Never reuse this key for anything you publish.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
say() { printf 'local-signing-key: %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

dir="${1:-$repo_root/.local/cosign}"
if [[ -f "$dir/cosign.key" && -f "$dir/cosign.pub" ]]; then
  printf '%s\n' "$dir/cosign.key"
  exit 0
fi
[[ -e "$dir/cosign.key" || -e "$dir/cosign.pub" ]] &&
  fail "$dir holds only half a key pair: remove $dir/cosign.key and $dir/cosign.pub, then run again."

cosign="${COSIGN_BIN:-}"
if [[ -z "$cosign" ]]; then
  read -r _ package version < <(grep -E '^cosign[[:space:]]' "$repo_root/tools/scripts/supply-chain-tools.txt")
  cosign="$(bash "$repo_root/tools/scripts/go-tool.sh" cosign "$package" "$version")"
fi

mkdir -p "$dir"
chmod 700 "$dir"
staging="$(mktemp -d "$dir/.new.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
(cd "$staging" && COSIGN_PASSWORD="${SLIPWAY_COSIGN_PASSWORD:-slipway-local}" "$cosign" generate-key-pair >/dev/null 2>&1) ||
  fail "cosign generate-key-pair failed in $staging: run it there by hand to see why."
chmod 600 "$staging/cosign.key"
mv "$staging/cosign.pub" "$dir/cosign.pub"
mv "$staging/cosign.key" "$dir/cosign.key"
say "made $dir/cosign.key and $dir/cosign.pub"
printf '%s\n' "$dir/cosign.key"
