#!/usr/bin/env bash
# `just demo`: private PostgreSQL and Redis, the API on http://127.0.0.1:8080 with a demo
# account and demo data, two worker processes and a steady feed of probe jobs, with the
# live queue status on screen. Ctrl-C stops everything it started (the PostgreSQL cluster
# stays up for the next run; `just pg-stop` stops it).
set -euo pipefail
redis_port=${1:-6380}
pg_port=${2:-5440}
run="$(pwd)/.run/demo"
mkdir -p "$run"
chmod 700 "$run"

demo_email="demo@astrogrowth.local"
demo_password="astrogrowth-demo"

export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/astrogrowth"
# The vault key seals LinkedIn tokens; kept across demo runs so stored tokens still open.
if [ ! -s "$run/vault.key" ]; then
  head -c 32 /dev/urandom | base64 >"$run/vault.key"
  chmod 600 "$run/vault.key"
fi
AG_VAULT__KEY="$(cat "$run/vault.key")"
export AG_VAULT__KEY
export AG_API__BIND="127.0.0.1:8080"
export AG_API__PUBLIC_URL="http://127.0.0.1:8080"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/redis.sh stop "$redis_port"
}
trap cleanup EXIT INT TERM

scripts/redis.sh start "$redis_port"
scripts/postgres.sh start "$pg_port"
scripts/postgres.sh createdb "$pg_port" astrogrowth
target/release/api migrate
AG_USER_PASSWORD="$demo_password" target/release/api create-user \
  --email "$demo_email" --name "Demo Owner" >/dev/null

# The imitation of Google Places, Gemini, Imagen and LinkedIn that every client's default
# configuration points at (port 8070), with the real services' latencies. Its LinkedIn app
# is approved for post analytics (the Community Management API) beside the two self-serve
# products, and the demo asks for them, so the dashboard shows engagement.
target/release/sandbox --bind 127.0.0.1:8070 \
  --linkedin-products "Sign In with LinkedIn using OpenID Connect,Share on LinkedIn,Community Management API" \
  >"$run/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:8070/_sandbox/health >/dev/null 2>&1 && break
  sleep 0.1
done
export AG_LINKEDIN__CLIENT_ID="sandbox-client-id"
export AG_LINKEDIN__CLIENT_SECRET="sandbox-client-secret"
export AG_LINKEDIN__ANALYTICS=true
# "Continue with Sandbox ID" on the sign-in and sign-up pages: the sandbox's OpenID Connect
# provider (docs/operations.md, "Sign in with Google or another OpenID Connect provider").
export AG_OIDC__PROVIDERS__SANDBOX__ISSUER="http://127.0.0.1:8070/oidc"
export AG_OIDC__PROVIDERS__SANDBOX__CLIENT_ID="sandbox-oidc-client"
export AG_OIDC__PROVIDERS__SANDBOX__CLIENT_SECRET="sandbox-oidc-secret"
export AG_OIDC__PROVIDERS__SANDBOX__DISPLAY_NAME="Sandbox ID"
# The sandbox's businesses have their websites on 127.0.0.1: let the workers fetch them
# (off by default, so a lead's website can never make a worker fetch our own hosts).
export AG_WEBSITE__ALLOW_PRIVATE=true
export AG_STORAGE__LOCAL_DIR="$run/images"
# The demo campaign asks for 50 businesses (Places gives up to 60).
export AG_PIPELINE__MAX_LEADS=50

# Mail goes to a local SMTP sink that keeps every message as a file in $run/mail/ (nothing
# leaves the machine): password-reset links and notices are read there.
mail_port=2525
scripts/mail-sink.sh run "$mail_port" "$run/mail" >"$run/mail-sink.log" 2>&1 &
pids+=($!)
export AG_MAIL__SMTP_PORT="$mail_port"
export AG_MAIL__PUBLIC_URL="http://127.0.0.1:8080"

target/release/api >"$run/api.log" 2>&1 &
pids+=($!)
for i in 1 2; do
  target/release/workers --queues scrape,enrich=10,generate=20,publish=10,periodic,mail,probe=8 --serve-any-queue >"$run/worker-$i.log" 2>&1 &
  pids+=($!)
done
target/release/workers probe --count 0 --every-ms 25 --mix >"$run/feed.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1; then
  echo "the api did not become ready; see $run/api.log" >&2
  tail -n 20 "$run/api.log" >&2
  exit 1
fi

# The demo owner's first run: connect LinkedIn through the sandbox's consent page (as a
# browser would, consent given at once) and launch a campaign, through the api.
scripts/demo-campaign.sh http://127.0.0.1:8080 "$demo_email" "$demo_password" "$run" || {
  echo "the demo campaign could not be launched; see $run/api.log" >&2
  exit 1
}

cat <<MSG
AstroGrowth demo is running:
  api        http://127.0.0.1:8080  (REST under /api, OpenAPI at /api/openapi.json, log $run/api.log)
  sign in    e-mail $demo_email   password $demo_password
             e.g. curl -c jar -H 'content-type: application/json' \\
                    -d '{"email":"$demo_email","password":"$demo_password"}' http://127.0.0.1:8080/api/auth/sign-in
  sandbox    http://127.0.0.1:8070  (Places, Gemini, Imagen, LinkedIn imitated; GET /_sandbox/log, /_sandbox/posts)
  mail       SMTP sink on 127.0.0.1:$mail_port; every message kept as a file in $run/mail/
             (\`ls -t $run/mail | head\` for the newest: password resets, notices)
  postgres   $DATABASE_URL (private, port $pg_port)
  redis      $REDIS_URL (private, port $redis_port)
  workers    2 processes, logs in $run/worker-*.log
  campaign   "Lyon bakeries" (50 leads) runs by itself: scraping → enriching → generating →
             ready; its posts fill the demo owner's publishing schedule (Tue–Thu 9:00 and
             14:00, Paris): watch them at http://127.0.0.1:8080/schedule ("Publish now" sends
             one), and the posts LinkedIn received at http://127.0.0.1:8070/_sandbox/posts
  producer   a mixed feed of probe jobs (some fail once, some are deferred, a few die)
  status     below, refreshed every second; also: REDIS_URL=$REDIS_URL target/release/workers status
MSG
sleep 2
target/release/workers status --watch
