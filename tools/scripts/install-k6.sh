#!/usr/bin/env bash
# Print the path of a k6 binary, installing the pinned version when there is none. Idempotent.
#
#   K6="$(bash tools/scripts/install-k6.sh)" && "$K6" version
#
# Looks in this order (the same order the smoke executor uses): $K6_BIN, `k6` on PATH, the Go bin
# directory (GOBIN, else $(go env GOPATH)/bin, else ~/go/bin). Only when none has it, runs
# `go install go.k6.io/k6@$K6_VERSION` (k6 is a Go binary: not on npm, not in Debian). CI caches the
# Go bin directory per machine; GitHub workflows can use grafana/setup-k6-action instead.
# stdout carries only the path; progress and errors go to stderr.
set -euo pipefail

K6_VERSION="${K6_VERSION:-v1.4.2}"

say() { printf 'install-k6: %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

if [[ -n "${K6_BIN:-}" ]]; then
  [[ -f "$K6_BIN" && -x "$K6_BIN" ]] || fail "K6_BIN=$K6_BIN is not an executable file: fix the path or unset K6_BIN."
  printf '%s\n' "$K6_BIN"
  exit 0
fi

if on_path="$(command -v k6 2>/dev/null)"; then
  printf '%s\n' "$on_path"
  exit 0
fi

# shellcheck source=lib/go-toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-toolchain.sh"
slipway_use_go || true

go_bin_dir() {
  if command -v go >/dev/null 2>&1; then
    local gobin
    gobin="$(go env GOBIN)"
    if [[ -n "$gobin" ]]; then
      printf '%s\n' "$gobin"
    else
      printf '%s/bin\n' "$(go env GOPATH)"
    fi
  else
    printf '%s/go/bin\n' "$HOME"
  fi
}

bin_dir="$(go_bin_dir)"
for candidate in "$bin_dir/k6" "$HOME/go/bin/k6"; do
  if [[ -x "$candidate" ]]; then
    printf '%s\n' "$candidate"
    exit 0
  fi
done

command -v go >/dev/null 2>&1 ||
  fail "k6 is not installed and Go is missing to build it: install Go 1.24+ (https://go.dev/dl/) and re-run, or set K6_BIN to a k6 binary."
say "installing k6 $K6_VERSION with go install into $bin_dir (a few minutes on a cold module cache)"
go install "go.k6.io/k6@${K6_VERSION}" >&2
[[ -x "$bin_dir/k6" ]] || fail "go install finished but $bin_dir/k6 is missing."
say "installed $("$bin_dir/k6" version 2>/dev/null | head -n1)"
printf '%s\n' "$bin_dir/k6"
