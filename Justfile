# AstroGrowth: the team's habits. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

demo_redis_port := "6380"
bench_redis_port := "6390"

default:
    @just --list

# Install what is missing (redis-server); every other recipe calls this first.
deps:
    scripts/ensure-deps.sh

# The whole system: private Redis, two workers, and a producer showing jobs flow. Ctrl-C stops it.
demo: deps
    cargo build --release --bins
    scripts/demo.sh {{demo_redis_port}}

# Formatting, lints, then every test (tests start their own redis-server instances).
test: deps lint
    cargo test --workspace

# fmt check and clippy with warnings as errors.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# bench.md's W1–W5 against a private redis-server on port 6390; prints one table.
bench *ARGS: deps
    cargo build --release --bins
    scripts/redis.sh start {{bench_redis_port}}
    trap 'scripts/redis.sh stop {{bench_redis_port}}' EXIT; REDIS_URL=redis://127.0.0.1:{{bench_redis_port}}/0 target/release/bench-run {{ARGS}}

# Queue sizes, throughput and live workers of a running system.
status url="redis://127.0.0.1:6380/0":
    REDIS_URL={{url}} cargo run --release --quiet --bin workers -- status
