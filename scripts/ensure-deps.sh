#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh Debian 12 machine:
# redis-server and the PostgreSQL server (the tests start private instances of both, see
# scripts/redis.sh and scripts/postgres.sh), and Chromium with its WebDriver for the
# dashboard's browser tests (api/tests/browser.rs). Idempotent and quiet when everything is
# already there. Debian's postgresql package also creates and starts a "main" cluster on
# port 5432; nothing here uses it.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# `ip` and `bridge` build the network namespaces of the partition test
# (workers/tests/partition.rs).
{ command -v ip && command -v bridge; } >/dev/null 2>&1 || missing+=(iproute2)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The S3 storage tests run moto's server from a venv (scripts/s3.sh).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
