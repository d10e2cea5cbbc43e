# AstroGrowth: the team's habits. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

demo_redis_port := "6380"
bench_redis_port := "6390"
# The benchmark's private Redis Cluster: ports 7100-7105 (scripts/redis-cluster.sh).
bench_cluster_port := "7100"
# moto's S3 server for the storage tests (scripts/s3.sh); AG_S3_PORT moves it.
s3_port := env_var_or_default("AG_S3_PORT", "5442")
# One private PostgreSQL cluster (scripts/postgres.sh) shared by the tests, the demo and the
# benchmark; it stays running between recipes (`just pg-stop` stops it). AG_PG_PORT moves it,
# for a second checkout on the same machine: a port answered by another checkout's cluster is
# refused rather than shared.
pg_port := env_var_or_default("AG_PG_PORT", "5440")
pg_url := "postgres://postgres@127.0.0.1:" + pg_port

default:
    @just --list

# Install what is missing (redis-server, postgresql, chromium + chromium-driver for the browser
# tests); every other recipe calls this first.
deps:
    scripts/ensure-deps.sh

# The whole system on http://127.0.0.1:8080: private PostgreSQL and Redis, the API with a
# demo account (credentials printed), two workers and a probe feed. Ctrl-C stops it.
demo: deps
    SQLX_OFFLINE=true cargo build --release --bins
    scripts/demo.sh {{demo_redis_port}} {{pg_port}}

# Rebuild api/static/app.css from the templates with Tailwind (pinned in api/ui/package.json);
# commit the result. `npm ci` installs exactly the locked versions (node_modules is ignored).
css:
    cd api/ui && npm ci --no-audit --no-fund && npm run css

# Formatting, lints, then every test (private redis-servers; private PostgreSQL, left running;
# headless Chromium for the page tests, the seven api/tests/browser*.rs, screenshots in
# target/screenshots/; network namespaces for the partition test workers/tests/partition.rs,
# which needs root as CI runs and is skipped loudly otherwise), then the OpenAPI document
# through openapi-spec-validator, then the Kubernetes manifests.
test: deps lint
    scripts/postgres.sh start {{pg_port}}
    scripts/s3.sh start {{s3_port}}
    trap 'scripts/s3.sh stop {{s3_port}}' EXIT; DATABASE_URL={{pg_url}}/postgres AG_TEST_S3_URL=http://127.0.0.1:{{s3_port}} SQLX_OFFLINE=true cargo test --workspace
    scripts/openapi-validate.sh
    scripts/k8s-validate.sh

# The OpenAPI document (`api openapi`) through openapi-spec-validator (PyPI, in .run/venv-openapi).
openapi-validate: deps
    scripts/openapi-validate.sh

# deploy/k8s against the Kubernetes schemas (kubernetes-validate) and KEDA's vendored CRD
# schemas, plus the rules tying them to the code; needs no cluster (PyPI, in .run/venv-k8s).
k8s-validate:
    scripts/k8s-validate.sh

# fmt check and clippy with warnings as errors; queries are checked against .sqlx/, no database.
lint:
    cargo fmt --all --check
    SQLX_OFFLINE=true cargo clippy --workspace --all-targets -- -D warnings

# Create the astrogrowth database in the private PostgreSQL and apply migrations/.
migrate: deps
    scripts/postgres.sh start {{pg_port}}
    scripts/postgres.sh createdb {{pg_port}} astrogrowth
    DATABASE_URL={{pg_url}}/astrogrowth cargo run --release --quiet --bin api -- migrate

# Regenerate .sqlx/ (the query metadata lint and test build with) from the migrated database.
prepare: migrate
    cargo sqlx --version >/dev/null 2>&1 || cargo install sqlx-cli --locked --version "^0.8" --no-default-features --features postgres,rustls
    DATABASE_URL={{pg_url}}/astrogrowth cargo sqlx prepare --workspace -- --all-targets

# Stop the private PostgreSQL (its data stays in .run/pg-PORT).
pg-stop:
    scripts/postgres.sh stop {{pg_port}}

# The queue workloads W1–W5 (bench/src/bin/bench_run/main.rs) against a private redis-server on port 6390; prints one table.
bench *ARGS: deps
    cargo build --release --bins
    cargo build --release -p workers --features bench
    scripts/redis.sh start {{bench_redis_port}}
    trap 'scripts/redis.sh stop {{bench_redis_port}}' EXIT; REDIS_URL=redis://127.0.0.1:{{bench_redis_port}}/0 target/release/bench-run {{ARGS}}

# W1 and W5 against a private Redis Cluster (three masters with a replica each, ports
# 7100-7105), the bench jobs spread over one queue per master: `just bench-cluster W1 W5`.
bench-cluster *ARGS: deps
    cargo build --release --bins
    cargo build --release -p workers --features bench
    scripts/redis-cluster.sh stop {{bench_cluster_port}}
    url=$(scripts/redis-cluster.sh start {{bench_cluster_port}}); trap 'scripts/redis-cluster.sh stop {{bench_cluster_port}}' EXIT; REDIS_URL=$url target/release/bench-run {{ARGS}}

# One owner's backlog beside another owner's few jobs in one queue (bench/src/bin/bench_fairness.rs),
# owners taking turns against first come first served, on a private redis-server on 6390:
# `just bench-fairness --noop 100000` adds the turns' cost on no-op jobs.
bench-fairness *ARGS: deps
    cargo build --release -p bench --bin bench-fairness
    scripts/redis.sh start {{bench_redis_port}}
    trap 'scripts/redis.sh stop {{bench_redis_port}}' EXIT; REDIS_URL=redis://127.0.0.1:{{bench_redis_port}}/0 target/release/bench-fairness {{ARGS}}

# Private PostgreSQL (database astrogrowth_bench, recreated), Redis on 6391, api on :8090.
# The API under load: campaigns + metrics at 500 req/s for 30 s, then 64 connections flat out.
bench-api *ARGS: deps
    SQLX_OFFLINE=true cargo build --release --bins
    scripts/bench-api.sh {{ARGS}}

# Owners launching 50-lead campaigns at once against the sandbox (default latencies), the
# provider limits binding: end-to-end and per-stage times, provider calls and 429s, attempts.
# `just bench-pipeline --owners 5` for a shorter run.
bench-pipeline *ARGS: deps
    SQLX_OFFLINE=true cargo build --release --bins
    scripts/bench-pipeline.sh {{ARGS}}

# Queue sizes, throughput and live workers of a running system.
status url="redis://127.0.0.1:6380/0":
    REDIS_URL={{url}} cargo run --release --quiet --bin workers -- status

# schemathesis against /api/openapi.json of a real api (private PostgreSQL and Redis).
fuzz-api: deps
    SQLX_OFFLINE=true cargo build --release --bin api
    scripts/schemathesis.sh {{pg_port}}
