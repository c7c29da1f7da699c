# Sourced by the scripts that build Go tools (setup.sh, go-tool.sh, install-k6.sh, cluster.sh): puts a
# Go new enough for them (1.24+) first on PATH, for this shell and its children only.
#
#   source tools/scripts/lib/go-toolchain.sh
#   slipway_use_go      # PATH gets the pinned toolchain when `go` is missing or too old; returns 1 if none
#   slipway_fetch_go    # setup.sh only: download the pinned toolchain with whatever `go` exists
#
# The pinned toolchain is Go's official toolchain module (golang.org/toolchain), the same one
# GOTOOLCHAIN switching uses: `go mod download` fetches it through the Go module proxy and verifies it
# against the checksum database, so Debian's old golang-go (1.19, no GOTOOLCHAIN support) can bootstrap
# it. It lives in the module cache; nothing outside it is changed.

SLIPWAY_GO_VERSION=go1.26.8
SLIPWAY_GO_MIN_MINOR=24

slipway_go_new_enough() {
  command -v go >/dev/null 2>&1 || return 1
  local minor
  minor="$(go version 2>/dev/null | sed -nE 's/^go version go1\.([0-9]+).*/\1/p')"
  [[ -n "$minor" && "$minor" -ge $SLIPWAY_GO_MIN_MINOR ]]
}

slipway_go_module() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch="$(uname -m)" ;;
  esac
  printf 'golang.org/toolchain@v0.0.1-%s.linux-%s\n' "$SLIPWAY_GO_VERSION" "$arch"
}

slipway_go_toolchain_dir() {
  printf '%s/%s\n' "${GOMODCACHE:-${GOPATH:-$HOME/go}/pkg/mod}" "$(slipway_go_module)"
}

slipway_use_go() {
  slipway_go_new_enough && return 0
  local dir
  dir="$(slipway_go_toolchain_dir)"
  [[ -x "$dir/bin/go" ]] || return 1
  export PATH="$dir/bin:$PATH"
  slipway_go_new_enough
}

slipway_fetch_go() {
  command -v go >/dev/null 2>&1 || return 1
  local module dir
  module="$(slipway_go_module)"
  GOFLAGS=-mod=mod GO111MODULE=on go mod download "$module" || return 1
  dir="$(slipway_go_toolchain_dir)"
  [[ -f "$dir/bin/go" ]] || return 1
  # Module zips carry no file modes; Go's own toolchain switch marks these executable the same way.
  find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod a+x {} +
}
