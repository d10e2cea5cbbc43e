#!/usr/bin/env bash
# `just fuzz-api`: schemathesis (PyPI) against /api/openapi.json of a real api process on
# private PostgreSQL and Redis. Two passes: the public operations without a session, then
# every authenticated one with a signed-in session and its CSRF token (sign-up, sign-in,
# sign-out and sign-out-everywhere are left out of that pass: each would replace or end the
# very session it runs under).
# Fails on any 500, undocumented status, or response not matching the schema.
set -euo pipefail
pg_port=${1:-5440}
redis_port=${2:-6393}
api_port=${3:-8097}
max_examples=${MAX_EXAMPLES:-60}
run="$(pwd)/.run/schemathesis"
venv="$(pwd)/.run/venv-schemathesis"
mkdir -p "$run"

# Pinned: with hypothesis >= 6.131 the authenticated pass died after ~1,900 cases with
# "SystemError: AST constructor recursion depth mismatch" (hypothesis parses source code
# with `ast` while generating; a RecursionError inside CPython 3.11's AST constructor
# leaves its depth counter wrong, python/cpython#106905, HypothesisWorks/hypothesis#4364).
schemathesis_version=4.32.5
hypothesis_version=6.130.13
if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "hypothesis==$hypothesis_version" \
  || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "schemathesis==$schemathesis_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$schemathesis_version" "hypothesis==$hypothesis_version"
fi

api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill -TERM "$api_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  scripts/redis.sh stop "$redis_port"
}
trap cleanup EXIT INT TERM

scripts/redis.sh start "$redis_port"
scripts/postgres.sh start "$pg_port"
scripts/postgres.sh createdb "$pg_port" astrogrowth_fuzz fresh

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/astrogrowth_fuzz"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export AG_API__BIND="127.0.0.1:$api_port"
AG_VAULT__KEY="$(head -c 32 /dev/urandom | base64)"
export AG_VAULT__KEY
# The fuzzer sends thousands of requests from one user and one address: lift the limits
# it would otherwise spend the run hitting (they have their own tests).
export AG_LIMITS__API_PER_MINUTE=10000000 AG_LIMITS__API_BURST=1000000
export AG_LIMITS__SIGN_IN_FAILURES_PER_ACCOUNT=1000000 AG_LIMITS__SIGN_IN_FAILURES_PER_IP=1000000
export RUST_LOG=warn
# A LinkedIn app whose endpoints refuse connections: connect redirects, a callback with a
# forged state is refused, and nothing leaves the machine.
export AG_LINKEDIN__CLIENT_ID=fuzz AG_LINKEDIN__CLIENT_SECRET=fuzz
export AG_LINKEDIN__TOKEN_URL=http://127.0.0.1:9/token AG_LINKEDIN__USERINFO_URL=http://127.0.0.1:9/userinfo

# AG_FUZZ_API_BIN: another build of the api (a debug one, to skip the release build).
"${AG_FUZZ_API_BIN:-target/release/api}" serve --migrate >"$run/api.log" 2>&1 &
api_pid=$!
base="http://127.0.0.1:$api_port"
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# A signed-in owner with a campaign and contents, so ids in the fuzzed paths sometimes exist.
jar="$run/cookies"
rm -f "$jar"
# Sign-up answers alike for new and taken e-mails and opens no session: sign in after it.
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"fuzz@astrogrowth.local","password":"fuzz-password-1","name":"Fuzz"}' \
  "$base/api/auth/sign-up"
csrf=$(curl -fsS -c "$jar" -H 'content-type: application/json' \
  -d '{"email":"fuzz@astrogrowth.local","password":"fuzz-password-1"}' \
  "$base/api/auth/sign-in" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
cookie=$(awk '$6 == "ag_session" {print $7}' "$jar")
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d astrogrowth_fuzz \
  -v email=fuzz@astrogrowth.local -f scripts/fuzz-seed.sql >/dev/null

export AG_FUZZ_SESSION="$cookie" AG_FUZZ_CSRF="$csrf"
st=("$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/openapi.json" --checks all
    --exclude-checks ignored_auth,positive_data_acceptance
    --max-examples "$max_examples" --workers 2 --request-timeout 10
    --report junit --report-dir "$run")
status=0
"${st[@]}" --include-path-regex '^/(healthz|readyz|api/auth/sign-(in|up))$' || status=1
"${st[@]}" --exclude-path-regex '^/api/auth/sign-(in|up|out|out-everywhere)$' || status=1
if grep -E 'ERROR.*(request failed|panicked)' "$run/api.log"; then
  echo "the api logged internal errors; see $run/api.log" >&2
  status=1
fi
exit $status
