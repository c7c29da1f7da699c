#!/usr/bin/env bash
# A private Docker Engine for image builds and the engine suites: dockerd, the buildx CLI plugin and a
# standalone BuildKit daemon behind buildx's `remote` driver, all under one state folder of our own.
#
#   tools/scripts/docker.sh start    reuse what already answers, start the rest; prints the exports
#   tools/scripts/docker.sh status   say what answers and what this script started; 0 = all up
#   tools/scripts/docker.sh stop     stop only what this script started, by PID; undo its binfmt changes
#   tools/scripts/docker.sh env      print the exports without starting anything
#   tools/scripts/docker.sh tools    build (once per machine) the pinned buildx and buildkitd; print their paths
#
# `eval "$(bash tools/scripts/docker.sh start)"` sets DOCKER_HOST (our dockerd's socket), DOCKER_CONFIG
# (our config folder: cli-plugins/docker-buildx and the builder list, so nothing global changes) and
# BUILDX_BUILDER. Progress goes to stderr, stdout carries only the exports.
#
# Why a standalone buildkitd: Debian's docker.io is Engine 20.10, whose embedded BuildKit (the buildx
# `docker` driver) cannot export several platforms or attestations (SBOM, provenance). The `remote`
# builder (BuildKit from the Go module proxy, pinned below) does all of it, like the docker-container
# builder docker/setup-buildx-action creates on GitHub runners. Both builders are created:
#   slipway      remote driver, unix://<state>/buildkitd.sock   (BUILDX_BUILDER default)
#   default      the docker driver of our dockerd (`docker buildx build --builder default`); dockerd runs
#                without a bridge (no iptables, no network changes), so its RUN steps need --network=host
# Multi-platform RUN steps need QEMU user emulation: when binfmt_misc can be mounted and Debian's
# qemu-user-static is installed, start registers qemu-aarch64 with the F (fix binary) flag if no
# handler is registered yet, and stop removes only what start registered (and unmounts what it mounted).
#
# Never touches a system dockerd, containerd or /var/run/docker.sock: every socket, data root, exec root
# and PID file is under the state folder, and dockerd runs its own containerd in its own namespace.
# Installs nothing from apt (tools/scripts/setup.sh does); buildx and buildkitd are built once per
# machine by tools/scripts/go-tool.sh.
#
# Environment (defaults in brackets):
#   SLIPWAY_DOCKER_DIR            state folder         [<repo>/.local/docker]
#   SLIPWAY_DOCKER_WAIT_SECONDS   readiness deadline   [60]
#   SLIPWAY_DOCKER_BINFMT=0       leave binfmt_misc alone (no multi-platform RUN steps)
set -euo pipefail

BUILDX_VERSION=v0.38.2
BUILDKIT_VERSION=v0.34.2

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${SLIPWAY_DOCKER_DIR:-$repo_root/.local/docker}"
wait_seconds="${SLIPWAY_DOCKER_WAIT_SECONDS:-60}"
builder=slipway

docker_sock="$state_dir/docker.sock"
docker_pid_file="$state_dir/docker.pid"
docker_log="$state_dir/dockerd.log"
buildkit_sock="$state_dir/buildkitd.sock"
buildkit_pid_file="$state_dir/buildkitd.pid"
buildkit_log="$state_dir/buildkitd.log"
config_dir="$state_dir/config"
started_dir="$state_dir/started"
binfmt_dir=/proc/sys/fs/binfmt_misc

log() { printf 'docker.sh: %s\n' "$*" >&2; }
fail() {
  printf 'docker.sh: error: %s\n' "$*" >&2
  exit 1
}

[[ "$wait_seconds" =~ ^[0-9]+$ ]] || fail "SLIPWAY_DOCKER_WAIT_SECONDS=\"$wait_seconds\" is not a number of seconds."

print_env() {
  printf 'export DOCKER_HOST=unix://%s\n' "$docker_sock"
  printf 'export DOCKER_CONFIG=%s\n' "$config_dir"
  printf 'export BUILDX_BUILDER=%s\n' "$builder"
}

in_env() { DOCKER_HOST="unix://$docker_sock" DOCKER_CONFIG="$config_dir" "$@"; }

dockerd_answers() { in_env docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
buildkitd_answers() { [[ -S "$buildkit_sock" ]] && in_env docker buildx inspect "$builder" >/dev/null 2>&1 && in_env docker buildx inspect "$builder" 2>/dev/null | grep -q '^Status: *running'; }

# A PID file is trusted only while that PID is still the process we started (not a recycled PID).
pid_alive_as() {
  local pid_file="$1" expected="$2" pid
  [[ -f "$pid_file" ]] || return 1
  pid="$(head -n1 "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$expected"
}

wait_until() {
  local what="$1" check="$2" log_file="$3" deadline=$((SECONDS + wait_seconds))
  until "$check"; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$log_file" >&2 || true
      fail "$what did not answer within ${wait_seconds}s (log above, full log: $log_file)."
    fi
    sleep 0.5
  done
}

stop_pid() {
  local what="$1" pid_file="$2" expected="$3" pid
  if ! pid_alive_as "$pid_file" "$expected"; then
    log "$what: not running"
    rm -f "$pid_file"
    return
  fi
  pid="$(head -n1 "$pid_file")"
  kill "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what (pid $pid) still running after 20 s: sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  log "$what: stopped pid $pid"
}

require() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed: $2"
}

# --- dockerd -----------------------------------------------------------------------------------------
start_dockerd() {
  if dockerd_answers; then
    log "dockerd on unix://$docker_sock answers: reused"
    return
  fi
  require dockerd "run bash tools/scripts/setup.sh (it installs Debian's docker.io)."
  [[ $EUID -eq 0 ]] || fail "dockerd needs root here (no rootless setup): run as root, or use --engine=podman/buildah."
  if pid_alive_as "$docker_pid_file" dockerd; then
    log "dockerd pid $(head -n1 "$docker_pid_file") is running but does not answer yet"
  else
    mkdir -p "$state_dir/data" "$state_dir/exec"
    rm -f "$docker_pid_file" "$docker_sock"
    # The namespace keeps our containers apart should dockerd find and share a system containerd.
    nohup dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
      --host="unix://$docker_sock" --data-root="$state_dir/data" --exec-root="$state_dir/exec" \
      --pidfile="$docker_pid_file" --containerd-namespace=slipway --containerd-plugins-namespace=slipway-plugins \
      >"$docker_log" 2>&1 </dev/null &
    touch "$started_dir/dockerd"
    log "starting dockerd (pid $!, socket $docker_sock, data $state_dir/data)"
  fi
  wait_until dockerd dockerd_answers "$docker_log"
  log "dockerd $(in_env docker info --format '{{.ServerVersion}}') answers on unix://$docker_sock"
}

# --- buildx ------------------------------------------------------------------------------------------
buildx_path() { bash "$repo_root/tools/scripts/go-tool.sh" docker-buildx github.com/docker/buildx/cmd/buildx "$BUILDX_VERSION"; }
buildkitd_path() { bash "$repo_root/tools/scripts/go-tool.sh" buildkitd github.com/moby/buildkit/cmd/buildkitd "$BUILDKIT_VERSION"; }

install_buildx() {
  local buildx
  buildx="$(buildx_path)"
  mkdir -p "$config_dir/cli-plugins"
  # podman, buildah and skopeo read credentials from $DOCKER_CONFIG/config.json once it is exported and
  # fail when it is missing: an empty one keeps them working in the same shell.
  [[ -f "$config_dir/config.json" ]] || printf '{}\n' >"$config_dir/config.json"
  ln -sfn "$buildx" "$config_dir/cli-plugins/docker-buildx"
  in_env docker buildx version >/dev/null 2>&1 ||
    fail "docker buildx does not run from $config_dir/cli-plugins/docker-buildx -> $buildx: delete that binary and re-run to rebuild it."
  log "buildx $BUILDX_VERSION: $config_dir/cli-plugins/docker-buildx"
}

# --- binfmt (QEMU user emulation for foreign-platform RUN steps) --------------------------------------
setup_binfmt() {
  [[ "${SLIPWAY_DOCKER_BINFMT:-1}" == 0 ]] && return
  local qemu=/usr/bin/qemu-aarch64-static
  if [[ ! -x "$qemu" ]]; then
    log "binfmt: $qemu missing (setup.sh installs qemu-user-static): linux/arm64 RUN steps will fail"
    return
  fi
  if [[ ! -e "$binfmt_dir/register" ]]; then
    if mount -t binfmt_misc binfmt_misc "$binfmt_dir" 2>/dev/null; then
      touch "$started_dir/binfmt-mount"
      log "binfmt: mounted binfmt_misc on $binfmt_dir"
    else
      log "binfmt: cannot mount binfmt_misc here: linux/arm64 RUN steps will fail (COPY-only stages still build)"
      return
    fi
  fi
  if [[ -e "$binfmt_dir/qemu-aarch64" ]]; then
    log "binfmt: qemu-aarch64 already registered: reused"
    return
  fi
  # Magic and mask of an aarch64 ELF (as Debian's /usr/lib/binfmt.d/qemu-aarch64.conf); F opens the
  # interpreter now, so it also works inside the build's chroot, where /usr/bin is the image's.
  local magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
  local mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
  if printf ':qemu-aarch64:M::%s:%s:%s:OCF' "$magic" "$mask" "$qemu" >"$binfmt_dir/register" 2>/dev/null; then
    touch "$started_dir/binfmt-aarch64"
    log "binfmt: registered qemu-aarch64 ($qemu, flags OCF)"
  else
    log "binfmt: registering qemu-aarch64 was refused: linux/arm64 RUN steps will fail"
  fi
}

undo_binfmt() {
  if [[ -f "$started_dir/binfmt-aarch64" ]]; then
    [[ -e "$binfmt_dir/qemu-aarch64" ]] && echo -1 >"$binfmt_dir/qemu-aarch64" && log "binfmt: removed qemu-aarch64"
    rm -f "$started_dir/binfmt-aarch64"
  fi
  if [[ -f "$started_dir/binfmt-mount" ]]; then
    umount "$binfmt_dir" && log "binfmt: unmounted $binfmt_dir"
    rm -f "$started_dir/binfmt-mount"
  fi
}

# --- buildkitd behind the remote driver --------------------------------------------------------------
start_buildkitd() {
  if buildkitd_answers; then
    log "buildkitd on unix://$buildkit_sock answers: reused"
    return
  fi
  require runc "run bash tools/scripts/setup.sh (it installs Debian's runc)."
  if pid_alive_as "$buildkit_pid_file" buildkitd; then
    log "buildkitd pid $(head -n1 "$buildkit_pid_file") is running but does not answer yet"
  else
    local buildkitd
    buildkitd="$(buildkitd_path)"
    mkdir -p "$state_dir/buildkit"
    rm -f "$buildkit_sock"
    # native snapshotter: overlayfs is not available on these machines' root filesystems (vfs elsewhere);
    # host network: no CNI here, and RUN steps never need a network of their own; --network=host is
    # allowed so that the same build options work on this builder and on dockerd's (which has no bridge).
    nohup "$buildkitd" --root "$state_dir/buildkit" --addr "unix://$buildkit_sock" \
      --oci-worker=true --containerd-worker=false --oci-worker-snapshotter=native --oci-worker-net=host \
      --oci-worker-binary="$(command -v runc)" --allow-insecure-entitlement=network.host \
      >"$buildkit_log" 2>&1 </dev/null &
    echo $! >"$buildkit_pid_file"
    touch "$started_dir/buildkitd"
    log "starting buildkitd $BUILDKIT_VERSION (pid $!, socket $buildkit_sock)"
  fi
  if ! in_env docker buildx inspect "$builder" >/dev/null 2>&1; then
    in_env docker buildx create --name "$builder" --driver remote "unix://$buildkit_sock" >/dev/null
  fi
  wait_until buildkitd buildkitd_answers "$buildkit_log"
  log "builder $builder (remote driver) runs on unix://$buildkit_sock; platforms: $(in_env docker buildx inspect "$builder" | sed -n 's/^Platforms: *//p' | head -n1)"
}

status() {
  local ok=0
  if dockerd_answers; then log "dockerd: answers on unix://$docker_sock"; else log "dockerd: down"; ok=1; fi
  if [[ -x "$config_dir/cli-plugins/docker-buildx" ]]; then log "buildx: $(readlink "$config_dir/cli-plugins/docker-buildx")"; else log "buildx: not installed in $config_dir"; ok=1; fi
  if buildkitd_answers; then log "buildkitd: answers on unix://$buildkit_sock"; else log "buildkitd: down"; ok=1; fi
  for what in dockerd buildkitd binfmt-mount binfmt-aarch64; do
    [[ -f "$started_dir/$what" ]] && log "started by this script: $what"
  done
  return "$ok"
}

case "${1:-}" in
  start)
    mkdir -p "$state_dir" "$started_dir"
    start_dockerd
    install_buildx
    setup_binfmt
    start_buildkitd
    print_env
    ;;
  stop)
    # Only what this script started, newest first; a reused daemon is left running.
    if [[ -f "$started_dir/buildkitd" ]]; then
      stop_pid buildkitd "$buildkit_pid_file" buildkitd
      rm -f "$started_dir/buildkitd" "$buildkit_sock"
    else
      log "buildkitd: not started by this script, left alone"
    fi
    if [[ -f "$started_dir/dockerd" ]]; then
      stop_pid dockerd "$docker_pid_file" dockerd
      rm -f "$started_dir/dockerd"
    else
      log "dockerd: not started by this script, left alone"
    fi
    undo_binfmt
    ;;
  status) status ;;
  env) print_env ;;
  tools) echo "buildx $BUILDX_VERSION $(buildx_path), buildkitd $BUILDKIT_VERSION $(buildkitd_path)" ;;
  *) fail "usage: bash tools/scripts/docker.sh start|stop|status|env|tools (got \"${1:-}\")." ;;
esac
