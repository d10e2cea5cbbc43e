#!/usr/bin/env bash
# `just demo`: a private Redis, two worker processes and a steady mixed feed of probe
# jobs, with the live status on screen. Ctrl-C stops everything it started.
set -euo pipefail
port=${1:-6380}
run="$(pwd)/.run/demo"
mkdir -p "$run"
export REDIS_URL="redis://127.0.0.1:$port/0"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/redis.sh stop "$port"
}
trap cleanup EXIT INT TERM

scripts/redis.sh start "$port"
for i in 1 2; do
  target/release/workers --queues scrape,enrich,generate,publish,probe=8 >"$run/worker-$i.log" 2>&1 &
  pids+=($!)
done
target/release/workers probe --count 0 --every-ms 25 --mix >"$run/feed.log" 2>&1 &
pids+=($!)

cat <<MSG
AstroGrowth demo is running:
  redis      $REDIS_URL (private, port $port)
  workers    2 processes, logs in $run/worker-*.log
  producer   a mixed feed of probe jobs (some fail once, some are deferred, a few die)
  status     below, refreshed every second; also: REDIS_URL=$REDIS_URL target/release/workers status
  http://127.0.0.1:8080 comes with the API (next issue).
MSG
sleep 2
target/release/workers status --watch
