# syntax=docker/dockerfile:1
# The AstroGrowth image: the `api` and `workers` binaries on Debian 12, nothing else.
#   docker build -t astrogrowth:0.1.0 .
#   docker run --rm astrogrowth:0.1.0 api --help
# Templates, static assets, locales and migrations are compiled into the binaries
# (include_str!/include_bytes!/sqlx::migrate!), so the final stage needs no source file.
# Kubernetes manifests using this image: deploy/k8s (docs/deploy.md).

# --- build: release binaries, queries checked against .sqlx/ (no database at build time).
FROM rust:1-bookworm AS builder
WORKDIR /src
# No debug info: the workspace's release profile keeps line tables for profiling the
# benchmarks, which makes the two binaries 256 MB instead of 43 MB. Symbols stay, so a
# backtrace still names its functions.
ENV SQLX_OFFLINE=true \
    CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_TERM_COLOR=never
COPY . .
# The caches keep the crates.io downloads and compiled dependencies between builds; the
# binaries are copied out of the cached target/ because cache mounts are not in the image.
# The benchmark's jobs are opt-in (workers/Cargo.toml): the shipped worker has none of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p api -p workers \
        --bin api --bin workers \
    && mkdir -p /out \
    && cp target/release/api target/release/workers /out/

# --- run: the binaries, CA roots for the providers' https, a non-root user.
FROM debian:bookworm-slim
# Not version-pinned: Debian's security updates replace ca-certificates' version, and a pin
# would fail the build then; the bookworm tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 astrogrowth \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin astrogrowth
COPY --from=builder /out/api /out/workers /usr/local/bin/
# The processes read config/default.toml relative to their working directory if it is
# there (optional; the environment is enough) and write nothing to disk with the s3
# storage backend, so the root filesystem can be read-only.
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# Inside a container the default 127.0.0.1 would be unreachable from outside it.
ENV AG_API__BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["api", "serve"]
