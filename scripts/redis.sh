#!/usr/bin/env bash
# Starts or stops a private redis-server for the demo or the benchmark, on its own port
# and directory under .run/, never the machine's shared Redis.
#   scripts/redis.sh start PORT   scripts/redis.sh stop PORT
set -euo pipefail
cmd=${1:?start|stop}
port=${2:?port}
dir="$(pwd)/.run/redis-$port"

case "$cmd" in
  start)
    mkdir -p "$dir"
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      echo "redis already answering on port $port" >&2
      exit 0
    fi
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    for _ in $(seq 1 100); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && exit 0
      sleep 0.05
    done
    echo "redis on port $port did not start; see $dir/redis.log" >&2
    exit 1
    ;;
  stop)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop PORT" >&2
    exit 2
    ;;
esac
