#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests, the demo and the benchmark, on its own port
# and directory, never the machine's shared server on 5432 (CI must not depend on it).
#   scripts/postgres.sh start PORT   initdb if needed, start, wait until ready (idempotent);
#                                    refuses a port another cluster answers on
#   scripts/postgres.sh stop PORT    fast shutdown; no error if it is not running
#   scripts/postgres.sh url PORT [DB]   prints postgres://postgres@127.0.0.1:PORT/DB (DB: postgres)
#   scripts/postgres.sh createdb PORT DB [fresh]   creates DB if missing; `fresh` drops it first
# The cluster lives in .run/pg-PORT under the repository. PostgreSQL refuses to run as
# root, so as root the cluster belongs to the `postgres` OS user; if that user cannot
# reach the repository (a parent directory without o+x, e.g. /root) or the socket path
# would be too long, the cluster goes to /tmp/astrogrowth-pg-PORT instead.
# Auth is `trust` and the server listens on 127.0.0.1 only.
set -euo pipefail
cmd=${1:?start|stop|url}
port=${2:?port}
repo="$(cd "$(dirname "$0")/.." && pwd)"

if [ "$cmd" = url ]; then
  echo "postgres://postgres@127.0.0.1:$port/${3:-postgres}"
  exit 0
fi

if [ "$cmd" = createdb ]; then
  db=${3:?database name}
  psql_admin=(psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  if [ "${4:-}" = fresh ]; then
    "${psql_admin[@]}" -c "drop database if exists \"$db\" with (force)"
  fi
  if [ "$("${psql_admin[@]}" -tAc "select 1 from pg_database where datname = '$db'")" != 1 ]; then
    "${psql_admin[@]}" -c "create database \"$db\""
  fi
  exit 0
fi

# Highest installed server version; ensure-deps.sh installs Debian's if there is none.
find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
bin=$(find_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  "$repo/scripts/ensure-deps.sh"
  bin=$(find_bin)
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi

# As root everything runs as the postgres OS user; otherwise as the current user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "running as root but there is no postgres OS user to run the server as" >&2
    exit 1
  fi
  as_pg=(runuser -u postgres --)
fi

dir="$repo/.run/pg-$port"
# Unix socket paths are limited to 107 bytes.
if [ ${#dir} -gt 80 ]; then
  dir="/tmp/astrogrowth-pg-$port"
elif [ ${#as_pg[@]} -gt 0 ]; then
  mkdir -p "$repo/.run"
  "${as_pg[@]}" test -x "$repo/.run" || dir="/tmp/astrogrowth-pg-$port"
fi

ready() {
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1
}

# A server answering on the port is used only if it is this checkout's cluster. Another
# checkout's (or the machine's) server could be stopped or wiped by its owner mid-run, and
# its databases are not ours to drop: refuse, naming both directories.
ensure_ours() {
  local other
  other=$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc 'show data_directory' \
    2>/dev/null) || other=""
  if [ -z "$other" ] || [ "$(realpath -m "$other")" != "$(realpath -m "$dir")" ]; then
    echo "port $port is answered by another PostgreSQL (data directory ${other:-unknown, it refused our query})," >&2
    echo "not this checkout's ($dir): stop that server, or give this checkout another port (AG_PG_PORT=...)" >&2
    exit 1
  fi
}

cd /
case "$cmd" in
  start)
    if ready; then
      ensure_ours
      echo "postgres already answering on port $port ($dir)" >&2
      exit 0
    fi
    mkdir -p "$dir"
    # Two `just test` at once: the second waits here, then finds the server answering.
    exec 9>"$dir.lock"
    flock 9
    if ready; then ensure_ours; exit 0; fi
    chmod 700 "$dir"
    if [ ${#as_pg[@]} -gt 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      "${as_pg[@]}" "$bin/initdb" -D "$dir" --auth=trust -U postgres --encoding=UTF8 \
        --locale=C >"$dir.initdb.log" 2>&1 9>&- || { cat "$dir.initdb.log" >&2; exit 1; }
      rm -f "$dir.initdb.log"
    fi
    # fsync, synchronous_commit and full_page_writes off: throwaway data, so speed over
    # durability. 300 connections: #[sqlx::test] opens many pools in parallel.
    opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir'"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    opts+=" -c max_connections=300"
    # 9>&-: the server must not inherit (and hold forever) the start lock.
    if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/postgres.log" -o "$opts" \
        -w -t 20 start >/dev/null 9>&-; then
      echo "postgres on port $port did not start; last lines of $dir/postgres.log:" >&2
      tail -n 20 "$dir/postgres.log" >&2 || true
      exit 1
    fi
    for _ in $(seq 1 100); do
      ready && exit 0
      sleep 0.2
    done
    echo "postgres on port $port does not answer on 127.0.0.1; last lines of $dir/postgres.log:" >&2
    tail -n 20 "$dir/postgres.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/postmaster.pid" ]; then
      "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop|url PORT" >&2
    exit 2
    ;;
esac
