#!/usr/bin/env bash
# Starts or stops a private Redis Cluster for the benchmark: three masters with a replica
# each, on ports BASEPORT..BASEPORT+5 (cluster bus on each port + 10000), every node in its
# own directory under .run/redis-cluster-BASEPORT/, never the machine's shared Redis.
#   scripts/redis-cluster.sh start BASEPORT   scripts/redis-cluster.sh stop BASEPORT
# `start` prints the engine's URL for it (redis+cluster://127.0.0.1:BASEPORT,...).
set -euo pipefail
cmd=${1:?start|stop}
base=${2:?base port}
if [ "$base" -eq 6379 ] || { [ "$base" -le 6379 ] && [ $((base + 5)) -ge 6379 ]; }; then
  echo "refusing ports $base..$((base + 5)): they include the machine's Redis on 6379" >&2
  exit 2
fi
root="$(pwd)/.run/redis-cluster-$base"
ports=()
for i in 0 1 2 3 4 5; do ports+=($((base + i))); done

case "$cmd" in
  start)
    for port in "${ports[@]}"; do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then
        echo "a redis already answers on port $port; stop it first" >&2
        exit 1
      fi
    done
    rm -rf "$root"
    for port in "${ports[@]}"; do
      dir="$root/node-$port"
      mkdir -p "$dir"
      # A low node timeout: a dead master's replica takes over within seconds.
      redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
        --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
        --cluster-node-timeout 2000 \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    done
    for port in "${ports[@]}"; do
      for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
      done
    done
    nodes=()
    for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$root/create.log"
    for _ in $(seq 1 200); do
      ok=1
      for port in "${ports[@]}"; do
        redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=0
        # A replica still syncing would fail every enqueue that waits for it.
        if redis-cli -p "$port" info replication 2>/dev/null | grep -q '^role:slave'; then
          redis-cli -p "$port" info replication | grep -q 'master_link_status:up' || ok=0
        fi
      done
      if [ "$ok" -eq 1 ]; then
        (IFS=,; echo "redis+cluster://${nodes[*]}")
        exit 0
      fi
      sleep 0.1
    done
    echo "the cluster on $base.. did not become ready; see $root/" >&2
    exit 1
    ;;
  stop)
    for port in "${ports[@]}"; do
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    done
    ;;
  *)
    echo "usage: $0 start|stop BASEPORT" >&2
    exit 2
    ;;
esac
