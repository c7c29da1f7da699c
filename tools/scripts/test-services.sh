#!/usr/bin/env bash
# PostgreSQL 15 and Redis for the integration suites, on the ports docker-compose.test.yml publishes:
#   postgres://postgres:postgres@127.0.0.1:5432/postgres   redis://127.0.0.1:6379
#
#   tools/scripts/test-services.sh start    reuse what already answers, start the rest (bounded wait)
#   tools/scripts/test-services.sh status   say what answers and what this script started; 0 = both up
#   tools/scripts/test-services.sh stop     stop only what this script started, by PID
#
# Installs nothing (tools/scripts/setup.sh does). Uses Debian's binaries: /usr/lib/postgresql/15/bin
# and redis-server. The PostgreSQL cluster is our own (initdb into the state folder), so it does not
# matter whether apt created or started Debian's default cluster: if that one already answers on the
# port, it is reused instead (and given the test password if it cannot be logged into yet).
#
# Environment (defaults in brackets):
#   TEST_SERVICES_DIR   state: data, logs, pid files   [<repo>/.local/test-services]
#   TEST_PG_PORT        [5432]      TEST_REDIS_PORT   [6379]
#   PG_BIN              [/usr/lib/postgresql/15/bin]
#   TEST_SERVICES_WAIT_SECONDS   readiness deadline per service [60]
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${TEST_SERVICES_DIR:-$repo_root/.local/test-services}"
pg_port="${TEST_PG_PORT:-5432}"
redis_port="${TEST_REDIS_PORT:-6379}"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
wait_seconds="${TEST_SERVICES_WAIT_SECONDS:-60}"
host=127.0.0.1
pg_password=postgres

pg_data="$state_dir/postgres/data"
pg_socket_dir="$state_dir/postgres/socket"
pg_log="$state_dir/postgres/postgres.log"
pg_pid_file="$state_dir/postgres.pid"
redis_dir="$state_dir/redis"
redis_log="$state_dir/redis/redis.log"
redis_pid_file="$state_dir/redis.pid"

log() { printf 'test-services: %s\n' "$*"; }
fail() {
  printf 'test-services: error: %s\n' "$*" >&2
  exit 1
}

for value in "$pg_port" "$redis_port" "$wait_seconds"; do
  [[ "$value" =~ ^[0-9]+$ ]] || fail "\"$value\" is not a number (check TEST_PG_PORT, TEST_REDIS_PORT and TEST_SERVICES_WAIT_SECONDS)."
done

# PostgreSQL refuses to run as root: run the cluster as the `postgres` OS user when we are root.
pg_as_owner() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_answers() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

pg_ready() { "$pg_bin/pg_isready" -q -h "$host" -p "$pg_port" -t 2 >/dev/null 2>&1; }
pg_login_ok() {
  PGPASSWORD="$pg_password" PGCONNECT_TIMEOUT=3 "$pg_bin/psql" -h "$host" -p "$pg_port" -U postgres -d postgres \
    -Atqc 'select 1' >/dev/null 2>&1
}
redis_ready() { [[ "$(redis-cli -h "$host" -p "$redis_port" ping 2>/dev/null)" == PONG ]]; }

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
  local what="$1" check="$2" deadline=$((SECONDS + wait_seconds))
  until "$check"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
  log "$what is ready"
}

require_binary() {
  [[ -x "$1" ]] || command -v "$1" >/dev/null 2>&1 ||
    fail "$1 is missing. Install it first: bash tools/scripts/setup.sh (Debian packages: $2)."
}

start_postgres() {
  if pg_ready; then
    if pg_login_ok; then
      if pid_alive_as "$pg_pid_file" "$pg_data"; then
        log "PostgreSQL already running on $host:$pg_port (started by this script, pid $(cat "$pg_pid_file"))"
      else
        log "PostgreSQL already answers on $host:$pg_port and accepts postgres/postgres: reusing it"
      fi
      return
    fi
    give_default_cluster_the_test_password
    return
  fi
  if port_answers "$pg_port"; then
    fail "port $pg_port is taken by something that is not PostgreSQL. Free it or set TEST_PG_PORT."
  fi
  require_binary "$pg_bin/postgres" postgresql-15
  require_binary "$pg_bin/psql" postgresql-client-15

  mkdir -p "$state_dir/postgres" "$pg_socket_dir"
  if [[ $EUID -eq 0 ]]; then
    chown postgres: "$state_dir/postgres" "$pg_socket_dir"
    runuser -u postgres -- test -x "$state_dir/postgres" ||
      fail "the postgres OS user cannot reach $state_dir. Set TEST_SERVICES_DIR to a folder it can enter, e.g. /var/tmp/slipway-test-services."
  fi
  if [[ ! -f "$pg_data/PG_VERSION" ]]; then
    log "creating a PostgreSQL cluster in $pg_data"
    local pwfile="$state_dir/postgres/.pwfile"
    (umask 077 && printf '%s\n' "$pg_password" >"$pwfile")
    [[ $EUID -eq 0 ]] && chown postgres: "$pwfile"
    pg_as_owner "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$state_dir/postgres/initdb.log" 2>&1 ||
      {
        rm -f "$pwfile"
        fail "initdb failed; see $state_dir/postgres/initdb.log"
      }
    rm -f "$pwfile"
  fi
  log "starting PostgreSQL on $host:$pg_port"
  # Durability settings are off on purpose: this cluster holds throwaway test data only.
  pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t "$wait_seconds" \
    -o "-c listen_addresses=$host -c port=$pg_port -c unix_socket_directories=$pg_socket_dir -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || fail "PostgreSQL did not start; see $pg_log"
  head -n1 "$pg_data/postmaster.pid" >"$pg_pid_file"
  wait_until "PostgreSQL (pid $(cat "$pg_pid_file"))" pg_login_ok ||
    fail "PostgreSQL did not accept postgres/postgres within ${wait_seconds}s; see $pg_log"
}

# Debian's own cluster (created and started by apt on machines with an init system) answers on 5432
# but its postgres role has no password. Give it the test password through the local socket, as the
# postgres OS user (peer authentication), so the suites can log in over TCP.
give_default_cluster_the_test_password() {
  if [[ $EUID -ne 0 ]]; then
    fail "PostgreSQL on $host:$pg_port rejects postgres/postgres. Set that password (ALTER ROLE postgres PASSWORD 'postgres') or point TEST_PG_PORT at another port."
  fi
  log "PostgreSQL on $host:$pg_port rejects postgres/postgres: setting that password through the local socket"
  runuser -u postgres -- "$pg_bin/psql" -p "$pg_port" -d postgres -Atqc "ALTER ROLE postgres PASSWORD '$pg_password'" >/dev/null 2>&1 ||
    fail "could not set the password of role postgres on the server at port $pg_port. Set it yourself: ALTER ROLE postgres PASSWORD 'postgres'."
  wait_until "PostgreSQL (reused)" pg_login_ok || fail "PostgreSQL still rejects postgres/postgres on port $pg_port."
}

start_redis() {
  if redis_ready; then
    if pid_alive_as "$redis_pid_file" "redis-server $host:$redis_port"; then
      log "Redis already running on $host:$redis_port (started by this script, pid $(cat "$redis_pid_file"))"
    else
      log "Redis already answers on $host:$redis_port: reusing it"
    fi
    return
  fi
  if port_answers "$redis_port"; then
    fail "port $redis_port is taken by something that is not Redis. Free it or set TEST_REDIS_PORT."
  fi
  require_binary redis-server redis-server
  mkdir -p "$redis_dir"
  log "starting Redis on $host:$redis_port"
  # No persistence: test data only.
  redis-server --bind "$host" --port "$redis_port" --daemonize yes --pidfile "$redis_pid_file" \
    --dir "$redis_dir" --logfile "$redis_log" --save '' --appendonly no >/dev/null ||
    fail "redis-server did not start; see $redis_log"
  wait_until "Redis" redis_ready || fail "Redis did not answer within ${wait_seconds}s; see $redis_log"
  local deadline=$((SECONDS + 10))
  until [[ -s "$redis_pid_file" ]] || ((SECONDS >= deadline)); do sleep 0.2; done
  log "Redis pid $(cat "$redis_pid_file" 2>/dev/null || echo '?')"
}

stop_by_pid() {
  local name="$1" pid_file="$2" expected="$3" signal="$4" pid
  if ! pid_alive_as "$pid_file" "$expected"; then
    if [[ -f "$pid_file" ]]; then
      log "$name: pid file $pid_file is stale, removing it"
      rm -f "$pid_file"
    else
      log "$name: not started by this script, leaving it alone"
    fi
    return
  fi
  pid="$(head -n1 "$pid_file")"
  log "stopping $name (pid $pid)"
  kill "-$signal" "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name (pid $pid) did not exit within 30s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pid_file"
}

status() {
  local rc=0
  if pg_ready; then
    if pid_alive_as "$pg_pid_file" "$pg_data"; then
      log "postgres: up on $host:$pg_port (started by this script, pid $(cat "$pg_pid_file"))"
    else
      log "postgres: up on $host:$pg_port (not started by this script)"
    fi
  else
    log "postgres: down on $host:$pg_port"
    rc=1
  fi
  if redis_ready; then
    if pid_alive_as "$redis_pid_file" "redis-server $host:$redis_port"; then
      log "redis: up on $host:$redis_port (started by this script, pid $(cat "$redis_pid_file"))"
    else
      log "redis: up on $host:$redis_port (not started by this script)"
    fi
  else
    log "redis: down on $host:$redis_port"
    rc=1
  fi
  return "$rc"
}

case "${1:-}" in
  start)
    start_postgres
    start_redis
    log "DATABASE_URL=postgres://postgres:***@$host:$pg_port/postgres REDIS_URL=redis://$host:$redis_port"
    ;;
  stop)
    # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
    stop_by_pid postgres "$pg_pid_file" "$pg_data" INT
    stop_by_pid redis "$redis_pid_file" "redis-server $host:$redis_port" TERM
    ;;
  status)
    status
    ;;
  *)
    fail "unknown command \"${1:-}\". Usage: tools/scripts/test-services.sh start|stop|status"
    ;;
esac
