#!/usr/bin/env bash
# Local prerequisites for `nx run <project>:image`, idempotent:
#   1. a docker-registry on 127.0.0.1:5000 (data in .local/registry, pid in .local/registry/registry.pid),
#      reused when it already answers;
#   2. a local Node base image assembled from scratch + this host's node, npm and the libraries ldd lists
#      (no image can be pulled here), reused when present in the buildah/podman storage.
# stdout carries only `export NODE_IMAGE=...` so that `eval "$(tools/scripts/local-prereqs.sh)"` works;
# progress goes to stderr.
#   tools/scripts/local-prereqs.sh          # ensure both, print the export line
#   tools/scripts/local-prereqs.sh --stop   # stop the registry this script started (by its pid file)
#   tools/scripts/local-prereqs.sh --base-only  # only the base image (tests run their own registry)
#   tools/scripts/local-prereqs.sh --registry-only  # only the registry (tools/scripts/cluster.sh runs its own)
# Environment: SLIPWAY_REGISTRY_ADDR (default 127.0.0.1:5000), SLIPWAY_REGISTRY_DIR (default .local/registry),
#              STORAGE_DRIVER (default vfs),
#              SLIPWAY_NODE_BASE (default localhost/slipway/node-base:<node version>-sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
addr="${SLIPWAY_REGISTRY_ADDR:-127.0.0.1:5000}"
driver="${STORAGE_DRIVER:-vfs}"
data="${SLIPWAY_REGISTRY_DIR:-$root/.local/registry}"
pidfile="$data/registry.pid"
node_bin="$(command -v node)"
node_version="$("$node_bin" --version | sed 's/^v//')"
# The suffix names the base's layout revision: a machine holding an older layout assembles this one.
# "sh": /bin/sh and /bin/busybox (busybox-static), for podman's CMD-SHELL health checks (see below).
base="${SLIPWAY_NODE_BASE:-localhost/slipway/node-base:$node_version-sh}"

log() { echo "local-prereqs: $*" >&2; }

registry_answers() {
  node -e '
    const req = require("http").get(`http://${process.argv[1]}/v2/`, { timeout: 2000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
    req.on("error", () => process.exit(1));
    req.on("timeout", () => { req.destroy(); process.exit(1); });
  ' "$addr"
}

stop_registry() {
  if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "stopped registry pid $pid"
    fi
    rm -f "$pidfile"
  else
    log "no pid file at $pidfile: nothing to stop"
  fi
}

ensure_registry() {
  if registry_answers; then
    log "registry on $addr answers: reused"
    return
  fi
  command -v docker-registry >/dev/null || { log "docker-registry is not installed: apt-get install -y docker-registry"; exit 1; }
  mkdir -p "$data/storage"
  cat >"$data/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data/storage
  delete:
    enabled: true
http:
  addr: $addr
YAML
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "registry pid $(cat "$pidfile") is running but $addr does not answer yet"
  else
    nohup docker-registry serve "$data/config.yml" >"$data/registry.log" 2>&1 &
    echo $! >"$pidfile"
    log "started docker-registry on $addr (pid $(cat "$pidfile"), data $data/storage)"
  fi
  for _ in $(seq 1 100); do
    registry_answers && return
    sleep 0.1
  done
  log "registry on $addr did not answer within 10 s; see $data/registry.log"
  exit 1
}

ensure_base_image() {
  if buildah --storage-driver "$driver" inspect --type image "$base" >/dev/null 2>&1; then
    log "base image $base present: reused"
    return
  fi
  command -v buildah >/dev/null || { log "buildah is not installed: apt-get install -y buildah"; exit 1; }
  log "assembling $base from scratch + $node_bin (v$node_version)"
  ctr="$(buildah --storage-driver "$driver" from scratch)"
  trap 'buildah --storage-driver "$driver" rm "$ctr" >/dev/null 2>&1 || true' EXIT
  mnt="$(buildah --storage-driver "$driver" mount "$ctr")"
  install -D -m 0755 "$node_bin" "$mnt/usr/local/bin/node"
  # The dynamic loader and every shared library node links against, at the same paths.
  for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
    real="$(readlink -f "$lib")"
    install -D -m 0755 "$real" "$mnt$lib"
  done
  # npm, for the build stage's `npm ci` (the runtime stage copies only the app and its node_modules).
  npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  mkdir -p "$mnt/usr/local/lib/node_modules"
  cp -a "$npm_root" "$mnt/usr/local/lib/node_modules/npm"
  # A shell, as node:*-alpine has: podman 4.3 runs every health check as CMD-SHELL (/bin/sh -c),
  # including the exec liveness probe of the local overlay, which uses busybox's wget.
  busybox_bin="$(command -v busybox || true)"
  [[ -n "$busybox_bin" ]] || { log "busybox is not installed: apt-get install -y busybox-static"; exit 1; }
  install -D -m 0755 "$(readlink -f "$busybox_bin")" "$mnt/bin/busybox"
  ln -s busybox "$mnt/bin/sh"
  mkdir -p "$mnt/tmp" "$mnt/root" "$mnt/etc/ssl/certs"
  chmod 1777 "$mnt/tmp"
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] && cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:10001:10001:node:/tmp:/sbin/nologin\n' >"$mnt/etc/passwd"
  printf 'root:x:0:\nnode:x:10001:\n' >"$mnt/etc/group"
  buildah --storage-driver "$driver" unmount "$ctr" >/dev/null
  buildah --storage-driver "$driver" config \
    --env PATH=/usr/local/bin:/usr/bin:/bin \
    --env NODE_VERSION="$node_version" \
    --label org.opencontainers.image.title=slipway-node-base \
    --label org.opencontainers.image.description="Local Node $node_version base assembled from the host binary" \
    --cmd node "$ctr"
  buildah --storage-driver "$driver" commit --quiet "$ctr" "$base" >/dev/null
  log "base image $base committed"
}

case "${1:-}" in
  --stop) stop_registry; exit 0 ;;
  --print-env) echo "export NODE_IMAGE=$base"; exit 0 ;;
  --base-only) ensure_base_image; echo "export NODE_IMAGE=$base"; exit 0 ;;
  --registry-only) ensure_registry; exit 0 ;;
  "") ;;
  *) log "unknown argument $1 (use --stop, --base-only, --registry-only or --print-env)"; exit 2 ;;
esac

ensure_registry
ensure_base_image
echo "export NODE_IMAGE=$base"
