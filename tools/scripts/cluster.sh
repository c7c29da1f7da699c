#!/usr/bin/env bash
# A real single-node Kubernetes v1.33 on this machine, for the kubectl and gitops deploy modes and
# their integration tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a kubelet on
# our own containerd (Debian's containerd and runc, CNI bridge), kube-proxy (iptables), CoreDNS on the
# host behind a kube-dns Service, and a plain-HTTP docker-registry the node pulls from.
#
#   tools/scripts/cluster.sh build    build (or reuse) the pinned binaries in the per-machine cache
#   tools/scripts/cluster.sh start    start everything; returns when the node is Ready and DNS answers
#   tools/scripts/cluster.sh stop     stop what start started (by PID) and restore the host exactly
#   tools/scripts/cluster.sh status   say what runs; exit 0 only when the cluster is up
#   tools/scripts/cluster.sh snapshot FILE   write the host state stop must restore (for tests)
#
# Everything listens on 127.0.0.1 except CoreDNS, which listens on the pod bridge's own address so pods
# reach it. Pods get 198.18.0.0/24 and Services 198.19.0.0/24 (outside the private ranges a host uses).
# State, certificates, kubeconfig and logs live in $CLUSTER_DIR (.local/cluster/); the ports are picked
# free at start and written to $CLUSTER_DIR/env, which is sourceable:
#   KUBECONFIG=... CLUSTER_REGISTRY=127.0.0.1:PORT CLUSTER_CONTEXT=... CLUSTER_POD_CIDR=... ...
# It never reads or writes ~/.kube/config: every kubectl call gets --kubeconfig.
#
# Binaries: Kubernetes components built from the Go module k8s.io/kubernetes through a wrapper module
# (go.mod generated from kubernetes' own: one replace per staging module), cached by version outside
# the repository in $SLIPWAY_K8S_CACHE/kubernetes-<version>/; CoreDNS and crictl through
# tools/scripts/go-tool.sh; the pause image from a tiny static Go program. etcd, containerd, runc and the
# CNI plugins come from Debian (tools/scripts/setup.sh installs them).
#
# Environment (defaults in brackets):
#   CLUSTER_DIR             [<repo>/.local/cluster]
#   CLUSTER_API_PORT        [free]   CLUSTER_REGISTRY_PORT [free]   (every other port: free)
#   CLUSTER_WAIT_SECONDS    [120]    readiness deadline of start
#   SLIPWAY_K8S_CACHE       [$HOME/.cache/slipway]
set -euo pipefail

K8S_VERSION=v1.33.13
STAGING_VERSION=v0.33.13
COREDNS_VERSION=v1.15.0
CRICTL_VERSION=v1.34.0
PAUSE_REF=slipway.local/pause:1
POD_CIDR=198.18.0.0/24
POD_GATEWAY=198.18.0.1
SERVICE_CIDR=198.19.0.0/24
SERVICE_API_IP=198.19.0.1
SERVICE_DNS_IP=198.19.0.10
BRIDGE=slipway0
CNI_NETWORK=slipway-cluster
CGROUP_ROOT=slipway-cluster
CONTEXT=slipway-cluster
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# Sysctls the kubelet and kube-proxy change on start; stop puts the host's values back.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet net.ipv4.ip_forward net.ipv4.conf.all.forwarding
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${CLUSTER_DIR:-$repo_root/.local/cluster}"
cache_root="${SLIPWAY_K8S_CACHE:-$HOME/.cache/slipway}"
k8s_bin="$cache_root/kubernetes-$K8S_VERSION"
wrapper="$cache_root/build/k8s-wrapper"
pause_dir="$cache_root/cluster/pause"
wait_seconds="${CLUSTER_WAIT_SECONDS:-120}"
pki="$state/pki"
logs="$state/logs"
pids="$state/pids"
kubeconfig="$state/kubeconfig"
containerd_sock="$state/containerd/containerd.sock"

log() { printf 'cluster: %s\n' "$*"; }
fail() {
  printf 'cluster: error: %s\n' "$*" >&2
  exit 1
}

[[ "$wait_seconds" =~ ^[0-9]+$ ]] || fail "CLUSTER_WAIT_SECONDS=\"$wait_seconds\" is not a number of seconds."
for var in CLUSTER_API_PORT CLUSTER_REGISTRY_PORT; do
  value="${!var:-}"
  [[ -z "$value" || "$value" =~ ^[0-9]+$ ]] || fail "$var=\"$value\" is not a port number."
done

kubectl_() { "$k8s_bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

# ---------------------------------------------------------------------------------------- build ---

require_go() {
  # shellcheck source=lib/go-toolchain.sh
  source "$repo_root/tools/scripts/lib/go-toolchain.sh"
  slipway_use_go ||
    fail "Go 1.24+ is missing (found: $(go version 2>/dev/null || echo none)); Kubernetes $K8S_VERSION needs it: run bash tools/scripts/setup.sh (it fetches a pinned Go toolchain)."
}

# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces its staging modules with local paths.
# The wrapper requires it and replaces each staging module with its published version instead.
generate_wrapper() {
  if [[ -f "$wrapper/go.sum" && -f "$wrapper/tools.go" ]] && grep -q "k8s.io/kubernetes $K8S_VERSION" "$wrapper/go.mod" 2>/dev/null; then
    return
  fi
  log "generating the wrapper module for k8s.io/kubernetes $K8S_VERSION in $wrapper"
  local upstream staging
  upstream="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -nE 's/^\s*"GoMod": "(.*)",?$/\1/p')"
  [[ -f "$upstream" ]] || fail "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy (GOPROXY=$(go env GOPROXY))."
  staging="$(sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/src/.*#\1#p' "$upstream" | sort -u)"
  [[ -n "$staging" ]] || fail "found no staging replaces in $upstream: the wrapper recipe does not fit this Kubernetes version."
  mkdir -p "$wrapper"
  local tmp
  tmp="$(mktemp -d "$wrapper.XXXXXX")"
  {
    printf 'module slipway.local/k8s-wrapper\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    for module in $staging; do printf '\t%s => %s %s\n' "$module" "$module" "$STAGING_VERSION"; done
    printf ')\n'
  } >"$tmp/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for binary in "${K8S_BINARIES[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$binary"; done
    printf ')\n'
  } >"$tmp/tools.go"
  (cd "$tmp" && go mod tidy) >"$tmp/tidy.log" 2>&1 || {
    cat "$tmp/tidy.log" >&2
    rm -rf "$tmp"
    fail "go mod tidy of the wrapper module failed (output above)."
  }
  rm -f "$tmp/tidy.log"
  rm -rf "$wrapper"
  mv "$tmp" "$wrapper"
}

build_kubernetes() {
  local missing=()
  for binary in "${K8S_BINARIES[@]}"; do [[ -x "$k8s_bin/$binary" ]] || missing+=("$binary"); done
  if ((${#missing[@]} == 0)); then
    log "Kubernetes $K8S_VERSION binaries cached in $k8s_bin"
    return
  fi
  require_go
  generate_wrapper
  mkdir -p "$k8s_bin"
  for binary in "${missing[@]}"; do
    log "building $binary $K8S_VERSION (kube-apiserver takes ~5 min on an empty cache)"
    local started=$SECONDS
    (cd "$wrapper" && CGO_ENABLED=0 nice go build -trimpath \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
      -o "$k8s_bin/$binary.tmp" "k8s.io/kubernetes/cmd/$binary") || {
      rm -f "$k8s_bin/$binary.tmp"
      fail "building $binary failed (output above)."
    }
    mv "$k8s_bin/$binary.tmp" "$k8s_bin/$binary"
    log "built $binary in $((SECONDS - started)) s"
  done
}

# The pause image every pod sandbox runs: a static program that waits for a signal and reaps orphans.
build_pause() {
  if [[ -x "$pause_dir/pause" ]]; then return; fi
  require_go
  log "building the pause program"
  local tmp
  tmp="$(mktemp -d)"
  cat >"$tmp/main.go" <<'GO'
// pause holds a pod's namespaces: it sleeps until SIGINT/SIGTERM and reaps orphaned children.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
GO
  printf 'module slipway.local/pause\n\ngo 1.24\n' >"$tmp/go.mod"
  mkdir -p "$pause_dir"
  (cd "$tmp" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$pause_dir/pause.tmp" .) ||
    fail "building the pause program failed (output above)."
  mv "$pause_dir/pause.tmp" "$pause_dir/pause"
  rm -rf "$tmp"
}

# An OCI image archive holding /pause, with the name containerd's importer reads from the index.
pause_archive() {
  local out="$1" tmp layer_tar layer_gz diff_id layer_digest config_digest manifest_digest
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/rootfs" "$tmp/oci/blobs/sha256"
  cp "$pause_dir/pause" "$tmp/rootfs/pause"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/rootfs" -cf "$tmp/layer.tar" pause
  gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
  layer_tar="$tmp/layer.tar"
  layer_gz="$tmp/layer.tar.gz"
  diff_id="$(sha256sum "$layer_tar" | cut -d' ' -f1)"
  layer_digest="$(sha256sum "$layer_gz" | cut -d' ' -f1)"
  cp "$layer_gz" "$tmp/oci/blobs/sha256/$layer_digest"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$diff_id" >"$tmp/config.json"
  config_digest="$(sha256sum "$tmp/config.json" | cut -d' ' -f1)"
  cp "$tmp/config.json" "$tmp/oci/blobs/sha256/$config_digest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config_digest" "$(stat -c %s "$tmp/config.json")" "$layer_digest" "$(stat -c %s "$layer_gz")" >"$tmp/manifest.json"
  manifest_digest="$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)"
  cp "$tmp/manifest.json" "$tmp/oci/blobs/sha256/$manifest_digest"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"1"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
    "$manifest_digest" "$(stat -c %s "$tmp/manifest.json")" "$PAUSE_REF" >"$tmp/oci/index.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/oci" -cf "$out" oci-layout index.json blobs
  rm -rf "$tmp"
}

go_tool() { bash "$repo_root/tools/scripts/go-tool.sh" "$@"; }
coredns_bin() { go_tool coredns github.com/coredns/coredns "$COREDNS_VERSION"; }
crictl_bin() { go_tool crictl sigs.k8s.io/cri-tools/cmd/crictl "$CRICTL_VERSION"; }

cmd_build() {
  local started=$SECONDS
  build_kubernetes
  build_pause
  log "coredns: $(coredns_bin)"
  log "crictl: $(crictl_bin)"
  log "build done in $((SECONDS - started)) s"
}

# ------------------------------------------------------------------------------- host snapshot ---

# Everything stop must put back, in a form that compares as text: our processes aside, the host's
# mounts, cgroups, links, firewall rules and sysctls. Lines that change on their own (counters,
# generated-at comments) are left out.
host_snapshot() {
  {
    echo '## iptables'
    iptables-save 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' || true
    echo '## ip6tables'
    ip6tables-save 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' || true
    echo '## nft'
    nft list ruleset 2>/dev/null | grep -vE '^\s*(#|$)' | sed -E 's/ counter packets [0-9]+ bytes [0-9]+//' || true
    echo '## links'
    ip -o link show | sed -E 's/^[0-9]+: //; s/\\.*$//' | awk '{print $1}' | sort || true
    echo '## mounts'
    awk '{print $5}' /proc/self/mountinfo | grep -F -- "$state" | sort || true
    echo '## cgroups'
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$CGROUP_ROOT" 2>/dev/null | sort || true
    echo '## sysctls'
    for key in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$key" "$(sysctl -n "$key" 2>/dev/null || echo absent)"; done
  }
}

# --------------------------------------------------------------------------------------- start ---

require_host() {
  [[ $EUID -eq 0 ]] || fail "the cluster needs root (kubelet, containerd, bridge, cgroups): run as root."
  for binary in "${K8S_BINARIES[@]}"; do
    [[ -x "$k8s_bin/$binary" ]] || fail "$k8s_bin/$binary is missing: run bash tools/scripts/cluster.sh build (about 8 min once per machine)."
  done
  [[ -x "$pause_dir/pause" ]] || fail "the pause program is missing: run bash tools/scripts/cluster.sh build."
  local tool
  for tool in etcd containerd ctr runc openssl iptables-save nft ip sysctl docker-registry; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing: run bash tools/scripts/setup.sh (Debian: etcd-server containerd runc containernetworking-plugins openssl iptables nftables iproute2 docker-registry)."
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] ||
    fail "CNI plugins are missing in /usr/lib/cni: run bash tools/scripts/setup.sh (Debian: containernetworking-plugins)."
  [[ -d /sys/fs/cgroup/memory ]] || fail "this host has no cgroup v1 memory hierarchy; the cluster script expects cgroup v1 (hybrid) as measured here."
}

free_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const servers = [];
    let done = 0;
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      s.listen(0, "127.0.0.1", () => {
        if (++done === n) {
          console.log(servers.map((x) => x.address().port).join(" "));
          servers.forEach((x) => x.close());
        }
      });
    }
  ' "$1"
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

gen_pki() {
  mkdir -p "$pki"
  if [[ -f "$pki/ca.crt" && -f "$pki/apiserver.crt" && -f "$pki/admin.crt" && -f "$pki/kubelet.crt" && -f "$pki/sa.key" ]]; then
    return
  fi
  log "creating certificates in $pki"
  local ossl=(openssl)
  (
    cd "$pki"
    umask 077
    "${ossl[@]}" ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    "${ossl[@]}" req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=slipway-cluster-ca" -out ca.crt 2>/dev/null
    issue() { # name subject sans
      "${ossl[@]}" ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
      "${ossl[@]}" req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ -n "$3" ]]; then
          echo "extendedKeyUsage=serverAuth,clientAuth"
          echo "subjectAltName=$3"
        else
          echo "extendedKeyUsage=clientAuth"
        fi
      } >"$1.ext"
      "${ossl[@]}" x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    issue apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:$SERVICE_API_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    issue kubelet "/CN=localhost" "IP:127.0.0.1,DNS:localhost"
    # One client identity in system:masters for every component: a one-node cluster for tests, not a
    # multi-tenant one. The apiserver still authorizes with Node and RBAC.
    issue admin "/O=system:masters/CN=slipway-admin" ""
    "${ossl[@]}" ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null
    "${ossl[@]}" ec -in sa.key -pubout -out sa.pub 2>/dev/null
  ) || fail "openssl failed to create the certificates in $pki."
}

write_kubeconfig() {
  local server="https://127.0.0.1:$1"
  (
    umask 077
    cat >"$kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: $CONTEXT
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $CONTEXT-admin
    user:
      client-certificate-data: $(base64 -w0 "$pki/admin.crt")
      client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
  - name: $CONTEXT
    context:
      cluster: $CONTEXT
      user: $CONTEXT-admin
current-context: $CONTEXT
YAML
  )
}

# Start a daemon in the background with its log and PID file; the PID is what stop ends.
launch() {
  local name="$1"
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  echo $! >"$pids/$name.pid"
}

pid_of() { [[ -f "$pids/$1.pid" ]] && cat "$pids/$1.pid"; }
# Running, not a zombie: our daemons outlive the shell that started them, and this host's init reaps
# orphans late, so `kill -0` alone would wait on processes that already ended.
running() { [[ "$1" =~ ^[0-9]+$ ]] && grep -qE '^State:\s+[^Z]' "/proc/$1/status" 2>/dev/null; }
alive() {
  local pid
  pid="$(pid_of "$1")" || return 1
  running "$pid"
}

wait_for() { # what deadline_seconds command...
  local what="$1" limit="$2"
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    local name
    for name in etcd kube-apiserver containerd kubelet kube-controller-manager kube-scheduler kube-proxy coredns registry; do
      if [[ -f "$pids/$name.pid" ]] && ! alive "$name"; then
        tail -n 15 "$logs/$name.log" >&2 || true
        fail "$name exited while waiting for $what (log: $logs/$name.log). Run bash tools/scripts/cluster.sh stop, then start again."
      fi
    done
    ((SECONDS < deadline)) || fail "$what not ready within ${limit}s (logs: $logs). Run bash tools/scripts/cluster.sh stop."
    sleep 0.2
  done
}

http_ok() { node -e '
  const [url] = process.argv.slice(1);
  const mod = require(url.startsWith("https") ? "https" : "http");
  const req = mod.get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
  req.on("error", () => process.exit(1));
  req.on("timeout", () => { req.destroy(); process.exit(1); });' "$1"; }

# Ask a DNS server (UDP) for the A record of the kubernetes Service; succeeds when it answers with one.
dns_answers() { node -e '
  const dgram = require("dgram");
  const [server, port] = process.argv.slice(1);
  const name = "kubernetes.default.svc.cluster.local";
  const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1])]);
  const s = dgram.createSocket("udp4");
  const t = setTimeout(() => process.exit(1), 1500);
  s.on("message", (m) => { clearTimeout(t); process.exit(m.readUInt16BE(6) > 0 && (m[3] & 0x0f) === 0 ? 0 : 1); });
  s.send(q, Number(port), server);' "$1" "$2"; }

node_ready() {
  [[ "$(kubectl_ get node localhost -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

cgroup_hierarchies() {
  local dir
  for dir in /sys/fs/cgroup/*/; do
    dir="${dir%/}"
    [[ "$(basename "$dir")" == unified ]] && continue
    [[ -e "$dir/cgroup.procs" ]] && echo "$dir"
  done
}

create_cgroup_root() {
  local dir
  for dir in $(cgroup_hierarchies); do
    mkdir -p "$dir/$CGROUP_ROOT"
    if [[ -e "$dir/cpuset.cpus" ]]; then
      cat "$dir/cpuset.cpus" >"$dir/$CGROUP_ROOT/cpuset.cpus"
      cat "$dir/cpuset.mems" >"$dir/$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

# Processes still inside our cgroup root (containers whose shim is gone): ours by construction.
kill_cgroup_processes() {
  local round pid found
  for round in 1 2 3 4 5 6 7 8 9 10; do
    found=0
    for pid in $(find /sys/fs/cgroup/*/"$CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u); do
      kill -KILL "$pid" 2>/dev/null && found=1
    done
    ((found == 0)) && return
    sleep 0.2
  done
}

remove_cgroup_root() {
  local dir
  for dir in /sys/fs/cgroup/*; do
    [[ -d "$dir/$CGROUP_ROOT" ]] || continue
    # Deepest first: a cgroup directory is removed with rmdir once it has no children and no tasks.
    find "$dir/$CGROUP_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

cmd_start() {
  local started=$SECONDS
  require_host
  if [[ -d "$pids" ]] && compgen -G "$pids/*.pid" >/dev/null; then
    if cmd_status >/dev/null 2>&1; then
      log "already running (KUBECONFIG=$kubeconfig); stop it with bash tools/scripts/cluster.sh stop"
      return
    fi
    fail "a previous cluster left PID files in $pids: run bash tools/scripts/cluster.sh stop first."
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    fail "network link $BRIDGE already exists (another cluster, or one stopped uncleanly): run bash tools/scripts/cluster.sh stop."
  fi
  mkdir -p "$state" "$logs" "$pids"
  # Wiped on every start: a fresh etcd and fresh node state keep starts quick and reproducible.
  # Images stay in containerd's root so pulls after the first are local.
  if grep -qF -- "$state" /proc/self/mountinfo; then
    fail "something is still mounted under $state: run bash tools/scripts/cluster.sh stop."
  fi
  rm -rf "$state/etcd" "$state/kubelet" "$state/containerd/state" "$state/cni" "$state/pod-logs" "$logs"/* "$state/env"
  mkdir -p "$state/cni/net.d" "$state/cni/ipam" "$state/kubelet" "$state/pod-logs" "$state/containerd"

  host_snapshot >"$state/host-before.txt"
  for key in "${SYSCTLS[@]}"; do
    value="$(sysctl -n "$key" 2>/dev/null)" && printf '%s=%s\n' "$key" "$value"
  done >"$state/sysctl-before.txt"
  nft list tables 2>/dev/null | sort >"$state/nft-tables-before.txt"

  read -r p_etcd p_peer p_api p_cm p_sched p_kubelet p_kubelet_health p_proxy_health p_proxy_metrics p_stream p_dns p_registry <<<"$(free_ports 12)"
  p_api="${CLUSTER_API_PORT:-$p_api}"
  # The registry keeps its port across starts (image references pinned in GitOps name it), unless
  # that port is taken now or CLUSTER_REGISTRY_PORT says otherwise.
  if [[ -z "${CLUSTER_REGISTRY_PORT:-}" && -f "$state/registry-port" ]] && ! port_taken "$(cat "$state/registry-port")"; then
    p_registry="$(cat "$state/registry-port")"
  fi
  p_registry="${CLUSTER_REGISTRY_PORT:-$p_registry}"
  for port in "$p_api" "$p_registry"; do
    if port_taken "$port"; then
      fail "port $port on 127.0.0.1 is taken: free it, or unset CLUSTER_API_PORT/CLUSTER_REGISTRY_PORT to pick free ports."
    fi
  done
  local registry="127.0.0.1:$p_registry"
  echo "$p_registry" >"$state/registry-port"

  gen_pki
  write_kubeconfig "$p_api"

  # registry: the cluster's own, its storage kept across starts
  SLIPWAY_REGISTRY_ADDR="$registry" SLIPWAY_REGISTRY_DIR="$state/registry" \
    bash "$repo_root/tools/scripts/local-prereqs.sh" --registry-only 2>"$logs/registry-start.log" ||
    fail "the cluster registry did not start on $registry (log: $logs/registry-start.log)."
  cp "$state/registry/registry.pid" "$pids/registry.pid"

  # etcd
  launch etcd etcd --name slipway --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$p_etcd" --advertise-client-urls "http://127.0.0.1:$p_etcd" \
    --listen-peer-urls "http://127.0.0.1:$p_peer" --initial-advertise-peer-urls "http://127.0.0.1:$p_peer" \
    --initial-cluster "slipway=http://127.0.0.1:$p_peer" --log-level warn

  # containerd, with a CNI bridge we create (it carries the pods' gateway address; CoreDNS binds it)
  ip link add "$BRIDGE" type bridge
  ip addr add "$POD_GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Pod -> Service -> pod traffic is forwarded on our bridge only; the global ip_forward stays as it is.
  sysctl -q -w "net.ipv4.conf.$BRIDGE.forwarding=1"
  cat >"$state/cni/net.d/10-slipway.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$state/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
JSON
  cat >"$state/containerd/config.toml" <<TOML
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$containerd_sock"
[ttrpc]
  address = "$containerd_sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "$p_stream"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$registry"]
    endpoint = ["http://$registry"]
TOML
  launch containerd containerd --config "$state/containerd/config.toml"

  # kube-apiserver, once etcd answers
  wait_for etcd 30 http_ok "http://127.0.0.1:$p_etcd/health"
  launch kube-apiserver "$k8s_bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$p_etcd" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$p_api" \
    --endpoint-reconciler-type=none \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
    --kubelet-certificate-authority="$pki/ca.crt" \
    --kubelet-preferred-address-types=Hostname \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false \
    --cert-dir="$pki/apiserver-generated"

  # the pause image, into containerd's CRI namespace
  wait_for containerd 30 ctr --address "$containerd_sock" version
  pause_archive "$state/pause.tar"
  ctr --address "$containerd_sock" -n k8s.io images import --no-unpack=false "$state/pause.tar" >"$logs/pause-import.log" 2>&1 ||
    ctr --address "$containerd_sock" -n k8s.io images import "$state/pause.tar" >"$logs/pause-import.log" 2>&1 ||
    fail "importing the pause image into containerd failed (log: $logs/pause-import.log)."

  wait_for kube-apiserver 60 kubectl_ get --raw /readyz

  launch kube-controller-manager "$k8s_bin/kube-controller-manager" \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$p_cm" --leader-elect=false \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
    --use-service-account-credentials=false --allocate-node-cidrs=false \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false
  launch kube-scheduler "$k8s_bin/kube-scheduler" \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$p_sched" --leader-elect=false --profiling=false

  create_cgroup_root
  cat >"$state/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $p_kubelet
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $p_kubelet_health
containerRuntimeEndpoint: unix://$containerd_sock
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
clusterDNS: [$SERVICE_DNS_IP]
clusterDomain: cluster.local
podLogsDir: $state/pod-logs
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $pki/ca.crt }
authorization:
  mode: Webhook
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
YAML
  launch kubelet "$k8s_bin/kubelet" --config="$state/kubelet/config.yaml" --kubeconfig="$kubeconfig" \
    --root-dir="$state/kubelet" --cert-dir="$state/kubelet/pki" --hostname-override=localhost

  launch kube-proxy "$k8s_bin/kube-proxy" --kubeconfig="$kubeconfig" --proxy-mode=iptables \
    --cluster-cidr="$POD_CIDR" --nodeport-addresses=127.0.0.0/8 \
    --healthz-bind-address="127.0.0.1:$p_proxy_health" --metrics-bind-address="127.0.0.1:$p_proxy_metrics" \
    --hostname-override=localhost --oom-score-adj=0 --conntrack-max-per-core=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0

  # CoreDNS on the host (the apiserver listens on loopback only), behind a selector-less kube-dns Service.
  cat >"$state/Corefile" <<COREFILE
.:$p_dns {
    bind $POD_GATEWAY
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $kubeconfig $CONTEXT
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
COREFILE
  local coredns
  coredns="$(coredns_bin)"
  launch coredns "$coredns" -conf "$state/Corefile"
  kubectl_ apply -f - >"$logs/kube-dns.log" 2>&1 <<YAML || fail "creating the kube-dns Service failed (log: $logs/kube-dns.log)."
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: { k8s-app: kube-dns }
spec:
  clusterIP: $SERVICE_DNS_IP
  ports:
    - { name: dns, port: 53, targetPort: $p_dns, protocol: UDP }
    - { name: dns-tcp, port: 53, targetPort: $p_dns, protocol: TCP }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: { kubernetes.io/service-name: kube-dns }
addressType: IPv4
endpoints:
  - addresses: [$POD_GATEWAY]
    conditions: { ready: true }
ports:
  - { name: dns, port: $p_dns, protocol: UDP }
  - { name: dns-tcp, port: $p_dns, protocol: TCP }
YAML

  cat >"$state/env" <<ENV
# Written by tools/scripts/cluster.sh start; source it to talk to this cluster.
export KUBECONFIG=$kubeconfig
export CLUSTER_CONTEXT=$CONTEXT
export CLUSTER_REGISTRY=$registry
export CLUSTER_API_SERVER=https://127.0.0.1:$p_api
export CLUSTER_POD_CIDR=$POD_CIDR
export CLUSTER_SERVICE_CIDR=$SERVICE_CIDR
export CLUSTER_DNS=$SERVICE_DNS_IP
export CLUSTER_KUBECTL=$k8s_bin/kubectl
export CLUSTER_KUBELET_PORT=$p_kubelet
export CLUSTER_ETCD=http://127.0.0.1:$p_etcd
ENV

  wait_for "node localhost Ready" "$wait_seconds" node_ready
  # Pods are refused in a namespace until its default ServiceAccount exists (controller-manager).
  wait_for "the default ServiceAccount" 30 kubectl_ get serviceaccount default -n default
  wait_for "cluster DNS through $SERVICE_DNS_IP" 30 dns_answers "$SERVICE_DNS_IP" 53
  log "ready in $((SECONDS - started)) s: KUBECONFIG=$kubeconfig registry=$registry (source $state/env)"
}

# ---------------------------------------------------------------------------------------- stop ---

stop_pid() { # name [signal]
  local name="$1" pid
  pid="$(pid_of "$name")" || return 0
  if running "$pid"; then
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$pids/$name.pid"
}

# TERM to all the named daemons at once, then KILL whatever still runs after 5 s.
stop_all() {
  local name pid alive_pids=()
  for name in "$@"; do
    pid="$(pid_of "$name")" || continue
    if running "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      alive_pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 5))
  while ((${#alive_pids[@]} > 0)); do
    local still=()
    for pid in "${alive_pids[@]}"; do running "$pid" && still+=("$pid"); done
    alive_pids=("${still[@]}")
    ((${#alive_pids[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      for pid in "${alive_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  for name in "$@"; do rm -f "$pids/$name.pid"; done
}

# containerd's shims outlive it by design; ours are the ones serving our containerd's address.
our_shim_pids() {
  local files
  # Two greps over every /proc/*/cmdline at once (a loop forking per process takes seconds here).
  files="$(grep -lsaF -- "$containerd_sock" /proc/[0-9]*/cmdline 2>/dev/null || true)"
  [[ -n "$files" ]] || return 0
  # shellcheck disable=SC2086
  grep -lsa 'containerd-shim' $files 2>/dev/null | sed -E 's#^/proc/([0-9]+)/cmdline$#\1#' || true
}

# Remove the KUBE-* chains and every rule that jumps to them, table by table, leaving other rules alone.
remove_kube_rules() {
  local save="$1" restore="$2" table
  command -v "$save" >/dev/null 2>&1 || return 0
  for table in filter nat mangle raw; do
    local rules
    rules="$("$save" -t "$table" 2>/dev/null)" || continue
    grep -q 'KUBE-' <<<"$rules" || continue
    grep -vE '^:KUBE-|^-A KUBE-|-j KUBE-' <<<"$rules" | "$restore" 2>>"$logs/stop.log" || true
  done
}

# nft tables the cluster created (none of them existed before start) and left empty of rules.
remove_new_nft_tables() {
  [[ -f "$state/nft-tables-before.txt" ]] || return 0
  local family name
  while read -r _ family name; do
    [[ -n "$name" ]] || continue
    grep -qxF "table $family $name" "$state/nft-tables-before.txt" && continue
    if [[ "$name" == kube-proxy ]] || ! nft list table "$family" "$name" 2>/dev/null |
      grep -vE '^\s*(table|chain|type|policy|\}|$)' | grep -q .; then
      nft delete table "$family" "$name" 2>>"$logs/stop.log" || true
    fi
  done < <(nft list tables 2>/dev/null)
}

cmd_stop() {
  mkdir -p "$logs"
  local started=$SECONDS
  if [[ ! -d "$pids" ]] || ! compgen -G "$pids/*.pid" >/dev/null; then
    if ! ip link show "$BRIDGE" >/dev/null 2>&1 && [[ -z "$(our_shim_pids)" ]] &&
      ! compgen -G "/sys/fs/cgroup/*/$CGROUP_ROOT" >/dev/null; then
      log "not running: nothing to stop"
      return
    fi
  fi
  # The kubelet first, so it does not restart what we remove; then every pod sandbox, so CNI tears
  # down its veths and addresses the regular way.
  stop_pid kubelet
  if [[ -S "$containerd_sock" ]] && alive containerd; then
    # Only a crictl already built (build caches it): stop never waits for a compile.
    local crictl="${SLIPWAY_TOOLS_CACHE:-$HOME/.cache/slipway/tools}/crictl/$CRICTL_VERSION/crictl"
    if [[ -x "$crictl" ]]; then
      timeout 60 "$crictl" --runtime-endpoint "unix://$containerd_sock" --timeout 20s rmp --force --all >>"$logs/stop.log" 2>&1 || true
    fi
  fi
  stop_all kube-proxy coredns kube-scheduler kube-controller-manager kube-apiserver etcd containerd
  local pid
  for pid in $(our_shim_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  kill_cgroup_processes
  if [[ -f "$pids/registry.pid" ]]; then
    SLIPWAY_REGISTRY_DIR="$state/registry" bash "$repo_root/tools/scripts/local-prereqs.sh" --stop >>"$logs/stop.log" 2>&1 || true
    rm -f "$pids/registry.pid"
  fi
  sleep 0.3
  # Mounts under our state (sandbox netns, rootfs overlays, projected volumes), deepest first.
  local mount_point
  while read -r mount_point; do
    umount -l "$mount_point" 2>>"$logs/stop.log" || true
  done < <(awk '{print $5}' /proc/self/mountinfo | grep -F -- "$state" | sort -r)
  ip link del "$BRIDGE" 2>/dev/null || true
  remove_kube_rules iptables-save iptables-restore
  remove_kube_rules ip6tables-save ip6tables-restore
  remove_new_nft_tables
  if [[ -f "$state/sysctl-before.txt" ]]; then
    local line key value
    while IFS= read -r line; do
      key="${line%%=*}"
      value="${line#*=}"
      [[ "$(sysctl -n "$key" 2>/dev/null)" == "$value" ]] || sysctl -q -w "$key=$value" 2>>"$logs/stop.log" || true
    done <"$state/sysctl-before.txt"
  fi
  remove_cgroup_root
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  rm -rf "$pids"
  if [[ -f "$state/host-before.txt" ]]; then
    host_snapshot >"$state/host-after.txt"
    if ! diff -u "$state/host-before.txt" "$state/host-after.txt" >"$state/host-diff.txt"; then
      log "warning: the host differs from before start (see $state/host-diff.txt):"
      head -n 20 "$state/host-diff.txt" >&2
    fi
  fi
  log "stopped in $((SECONDS - started)) s"
}

# -------------------------------------------------------------------------------------- status ---

cmd_status() {
  local name up=0 down=0
  for name in registry etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns; do
    if alive "$name"; then
      log "$name: running (pid $(pid_of "$name"))"
      up=$((up + 1))
    elif [[ -f "$pids/$name.pid" ]]; then
      log "$name: NOT running (stale pid file)"
      down=$((down + 1))
    else
      log "$name: not started"
      down=$((down + 1))
    fi
  done
  if ((down > 0)); then
    ((up == 0)) && log "cluster: not running (start: bash tools/scripts/cluster.sh start)"
    return 1
  fi
  if node_ready; then
    log "node localhost Ready; KUBECONFIG=$kubeconfig ($(grep CLUSTER_REGISTRY= "$state/env" | cut -d= -f2))"
  else
    log "node localhost is not Ready"
    return 1
  fi
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  snapshot)
    [[ -n "${2:-}" ]] || fail "usage: bash tools/scripts/cluster.sh snapshot FILE"
    host_snapshot >"$2"
    ;;
  *) fail "usage: bash tools/scripts/cluster.sh build|start|stop|status (got \"${1:-}\")" ;;
esac
