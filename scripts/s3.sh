#!/usr/bin/env bash
# A real S3-protocol server for the storage tests: moto's server (PyPI `moto[server]`, pinned)
# in a venv under .run/, on its own port, in memory. Debian 12 packages no S3 server (no
# minio), so this is the lean way to test object_store's S3 client against real HTTP.
#   scripts/s3.sh install          creates the venv if missing (idempotent)
#   scripts/s3.sh start PORT       starts moto_server (install first), waits until it answers
#   scripts/s3.sh stop PORT
set -euo pipefail
cmd=${1:?install|start|stop}
venv="$(pwd)/.run/venv-moto"
moto_version=5.1.4

install() {
  if [ -x "$venv/bin/moto_server" ] && "$venv/bin/pip" freeze 2>/dev/null | grep -qx "moto==$moto_version"; then
    return
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]==$moto_version"
}

case "$cmd" in
  install) install ;;
  start)
    port=${2:?port}
    dir="$(pwd)/.run/s3-$port"
    mkdir -p "$dir"
    if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
      exit 0
    fi
    install
    nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"
    for _ in $(seq 1 200); do
      curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && exit 0
      sleep 0.05
    done
    echo "moto on port $port did not start; see $dir/moto.log" >&2
    exit 1
    ;;
  stop)
    port=${2:?port}
    pid_file="$(pwd)/.run/s3-$port/moto.pid"
    if [ -s "$pid_file" ]; then kill "$(cat "$pid_file")" 2>/dev/null || true; rm -f "$pid_file"; fi
    ;;
  *)
    echo "usage: $0 install|start PORT|stop PORT" >&2
    exit 2
    ;;
esac
