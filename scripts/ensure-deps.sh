#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh Debian 12 machine:
# redis-server and the PostgreSQL server (the tests start private instances of both, see
# scripts/redis.sh and scripts/postgres.sh), and Chromium with its WebDriver for the
# dashboard's browser tests (api/tests/browser.rs), and Prometheus with promtool for the
# metrics test (workers/tests/metrics.rs starts a private server; it fails without them),
# and libfaketime for the clock-skew test.
# Idempotent and quiet when everything is already there. Debian's postgresql package also
# creates and starts a "main" cluster on port 5432, and its prometheus package a service on
# :9090 where systemd runs; nothing here uses either.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# `ip` and `bridge` build the network namespaces of the partition test
# (workers/tests/partition.rs).
{ command -v ip && command -v bridge; } >/dev/null 2>&1 || missing+=(iproute2)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# openssl makes the test CA of the TLS cluster test (workers/tests/process.rs).
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# libfaketime gives one worker process of a test a wall clock of its own (a host whose
# clock is off, workers/tests/process.rs).
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || missing+=(libfaketime)
# The S3 storage tests run moto's server from a venv (scripts/s3.sh).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# Debian's prometheus package ships both the server and promtool.
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
