#!/usr/bin/env bash
# Print the path of a Go-built tool at a pinned version, building it once per machine. Idempotent.
#
#   COSIGN="$(bash tools/scripts/go-tool.sh cosign github.com/sigstore/cosign/v2/cmd/cosign v2.6.1)"
#
# The binary lives in a per-machine cache outside the repository, keyed by name and version:
#   ${SLIPWAY_TOOLS_CACHE:-$HOME/.cache/slipway/tools}/<name>/<version>/<name>
# so every clone, CI run and worktree on the machine reuses it, and a version change builds anew
# beside the old one. Only when it is missing does it run `go install <package>@<version>` with
# GOBIN pointed at a temporary directory, then moves the binary into place (a failed or interrupted
# build leaves no half-written tool behind). stdout carries only the path; progress and errors go
# to stderr.
set -euo pipefail

say() { printf 'go-tool: %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

[[ $# -eq 3 ]] || fail "usage: bash tools/scripts/go-tool.sh <name> <go package path> <version> (got $# arguments)."
name="$1"
package="$2"
version="$3"
[[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || fail "tool name \"$name\" is not a plain file name: use lowercase letters, digits, '.', '_' or '-'."
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  fail "version \"$version\" for $name is not an exact module version (vMAJOR.MINOR.PATCH): pin one, never 'latest'."

cache_root="${SLIPWAY_TOOLS_CACHE:-$HOME/.cache/slipway/tools}"
dest_dir="$cache_root/$name/$version"
dest="$dest_dir/$name"
if [[ -x "$dest" ]]; then
  printf '%s\n' "$dest"
  exit 0
fi

# shellcheck source=lib/go-toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-toolchain.sh"
slipway_use_go || true
command -v go >/dev/null 2>&1 ||
  fail "$name $version is not built yet and Go is missing to build it: run bash tools/scripts/setup.sh (it installs a pinned Go toolchain)."

mkdir -p "$dest_dir"
staging="$(mktemp -d "$dest_dir/.build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
say "building $name $version with go install $package@$version (minutes on a cold module cache)"
if ! CGO_ENABLED="${CGO_ENABLED:-0}" GOBIN="$staging" go install -trimpath "$package@$version" 2>"$staging/install.log"; then
  cat "$staging/install.log" >&2
  # `go install pkg@version` refuses modules whose go.mod has replace or exclude directives (BuildKit has
  # excludes); those build the way their dependents build them: required from a throw-away main module.
  grep -q 'must not contain directives that would cause' "$staging/install.log" ||
    fail "go install $package@$version failed (output above): check the module version exists on the Go module proxy."
  say "building $name $version from a throw-away module that requires it (its go.mod has replace/exclude directives)"
  mkdir "$staging/module"
  (
    cd "$staging/module"
    go mod init slipway.local/go-tool-build >&2 2>&1
    go get "$package@$version" >&2
    CGO_ENABLED="${CGO_ENABLED:-0}" go build -trimpath -o "$staging/$(basename "$package")" "$package" >&2
  ) || fail "building $package@$version in a throw-away module failed (output above)."
fi
rm -f "$staging/install.log"
built="$staging/$(basename "$package")"
[[ -x "$built" ]] || built="$(find "$staging" -maxdepth 1 -type f -perm -u+x | head -n 1)"
[[ -n "$built" && -x "$built" ]] || fail "go install $package@$version finished but produced no binary in $staging."
mv "$built" "$dest"
say "built $dest"
printf '%s\n' "$dest"
