#!/usr/bin/env bash
# `just bench-pipeline`: owners launching campaigns at once against the sandbox with its
# default latencies, provider limits set so that they bind. A private PostgreSQL (port 5440,
# database astrogrowth_bench_pipeline, recreated), Redis (6392, flushed), the sandbox on
# 127.0.0.1:8071, the api on 127.0.0.1:8092, two worker processes; then
# target/release/bench-pipeline. Everything it started is stopped on exit.
# Arguments go to bench-pipeline (`--owners 20 --leads 50`).
# BENCH_GEMINI_PER_MINUTE / BENCH_IMAGE_PER_MINUTE set the binding limits (default 600).
set -euo pipefail
pg_port=5440
redis_port=6392
sandbox=127.0.0.1:8071
api_bind=127.0.0.1:8092
db=astrogrowth_bench_pipeline
run="$(pwd)/.run/bench-pipeline"
rm -rf "$run"
mkdir -p "$run"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/redis.sh stop "$redis_port"
}
trap cleanup EXIT INT TERM

scripts/postgres.sh start "$pg_port"
scripts/postgres.sh createdb "$pg_port" "$db" fresh
scripts/redis.sh start "$redis_port"
redis-cli -p "$redis_port" flushall >/dev/null

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/$db"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export AG_API__BIND="$api_bind"
export AG_API__PUBLIC_URL="http://$api_bind"
AG_VAULT__KEY="$(head -c 32 /dev/urandom | base64)"
export AG_VAULT__KEY
export RUST_LOG=warn
export AG_LIMITS__SIGN_IN_FAILURES_PER_IP=100000
export AG_LIMITS__API_PER_MINUTE=6000000 AG_LIMITS__API_BURST=100000
s="http://$sandbox"
export AG_PROVIDERS__GOOGLE__PLACES_BASE_URL="$s/places"
export AG_PROVIDERS__GOOGLE__GEMINI_BASE_URL="$s/gemini"
export AG_LINKEDIN__CLIENT_ID=sandbox-client-id AG_LINKEDIN__CLIENT_SECRET=sandbox-client-secret
export AG_LINKEDIN__AUTHORIZE_URL="$s/linkedin-www/oauth/v2/authorization"
export AG_LINKEDIN__TOKEN_URL="$s/linkedin-www/oauth/v2/accessToken"
export AG_LINKEDIN__USERINFO_URL="$s/linkedin-api/v2/userinfo"
export AG_LINKEDIN__API_BASE_URL="$s/linkedin-api"
export AG_WEBSITE__ALLOW_PRIVATE=true
export AG_STORAGE__LOCAL_DIR="$run/images"
export AG_PIPELINE__MAX_LEADS=50
# The limits that bind: the app's Gemini text and image rates (all owners share them),
# below what the workers could do (2 processes x 40 generate slots / 3.2 s a content).
# The burst lets one campaign alone go at full speed; twenty at once exceed it.
gemini=${BENCH_GEMINI_PER_MINUTE:-600}
image=${BENCH_IMAGE_PER_MINUTE:-600}
burst=${BENCH_BURST:-60}
export AG_PIPELINE__LIMITS__GEMINI_TEXT__PER_MINUTE="$gemini" AG_PIPELINE__LIMITS__GEMINI_TEXT__BURST="$burst"
export AG_PIPELINE__LIMITS__IMAGE__PER_MINUTE="$image" AG_PIPELINE__LIMITS__IMAGE__BURST="$burst"
export AG_PIPELINE__LIMITS__USER_GEMINI_TEXT__PER_MINUTE=6000 AG_PIPELINE__LIMITS__USER_IMAGE__PER_MINUTE=6000
export AG_PIPELINE__LIMITS__LEADS_PER_DAY=100000 AG_PIPELINE__LIMITS__CONTENTS_PER_DAY=100000

target/release/sandbox --bind "$sandbox" >"$run/sandbox.log" 2>&1 &
pids+=($!)
target/release/api migrate
target/release/api serve >"$run/api.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  target/release/workers --queues scrape=4,enrich=40,generate=40,publish=20,periodic=1 \
    >"$run/worker-$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 100); do
  curl -fsS "http://$api_bind/healthz" >/dev/null 2>&1 && curl -fsS "$s/_sandbox/health" >/dev/null 2>&1 && break
  sleep 0.1
done

target/release/bench-pipeline --api "http://$api_bind" --sandbox "$s" \
  --gemini-per-minute "$gemini" --image-per-minute "$image" --burst "$burst" "$@"
