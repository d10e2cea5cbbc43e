#!/usr/bin/env bash
# `just bench-api`: the API under load. A private PostgreSQL (port 5440, database
# astrogrowth_bench, dropped and recreated each run), a private Redis (port 6391, flushed),
# `api serve` on 127.0.0.1:8090, then target/release/bench-api against it. Everything this
# started is stopped on exit. Arguments go to bench-api (`--rate 800`, `--duration 60`, ...).
# Expects `cargo build --release --bins` done (the recipe does it).
set -euo pipefail
pg_port=5440
redis_port=6391
api_bind=127.0.0.1:8090
db=astrogrowth_bench
run="$(pwd)/.run/bench-api"
mkdir -p "$run"

api_pid=""
cleanup() {
  if [ -n "$api_pid" ]; then
    kill -TERM "$api_pid" 2>/dev/null || true
    wait "$api_pid" 2>/dev/null || true
  fi
  scripts/redis.sh stop "$redis_port"
  # PostgreSQL stays up like for every other recipe (`just pg-stop` stops it).
}
trap cleanup EXIT INT TERM

scripts/postgres.sh start "$pg_port"
scripts/postgres.sh createdb "$pg_port" "$db" fresh
scripts/redis.sh start "$redis_port"
redis-cli -p "$redis_port" flushall >/dev/null

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/$db"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export AG_API__BIND="$api_bind"
AG_VAULT__KEY="$(head -c 32 /dev/urandom | base64)"
export AG_VAULT__KEY
export RUST_LOG=warn
# Sign-ups are limited like failed sign-ins, 50 per address per 15 minutes; the setup signs
# up --users accounts from one address.
export AG_LIMITS__SIGN_IN_FAILURES_PER_IP=100000
# The per-user API limit (default 1200/min, burst 100) would cap the closed-loop phase at
# --users x 20 req/s and measure the limiter's 429s, not the server. Raised, it still runs
# its Redis script on every request, so each request costs what it costs in production.
# BENCH_API_PER_MINUTE=1200 BENCH_API_BURST=100 keep the defaults.
export AG_LIMITS__API_PER_MINUTE="${BENCH_API_PER_MINUTE:-6000000}"
export AG_LIMITS__API_BURST="${BENCH_API_BURST:-100000}"

target/release/api migrate
target/release/api serve >"$run/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://$api_bind/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$api_pid" 2>/dev/null; then
    echo "api exited; last lines of $run/api.log:" >&2
    tail -n 20 "$run/api.log" >&2
    exit 1
  fi
  sleep 0.1
done
curl -fsS "http://$api_bind/healthz" >/dev/null

target/release/bench-api --url "http://$api_bind" --server-pid "$api_pid" "$@"
echo "api peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$api_pid/status")"
if [ -s "$run/api.log" ]; then
  echo "api warnings/errors ($run/api.log):" >&2
  tail -n 20 "$run/api.log" >&2
fi
