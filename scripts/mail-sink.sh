#!/usr/bin/env bash
# The local SMTP sink (scripts/mail_sink.py, on aiosmtpd from PyPI, pinned, in
# .run/venv-mail): `just demo` runs it on port 2525 with the messages in .run/demo/mail/,
# and the mail tests run it on a free port each.
#   scripts/mail-sink.sh install              the venv only (the tests call this)
#   scripts/mail-sink.sh run PORT DIR         install if needed, then serve in the foreground
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.run/venv-mail"
aiosmtpd_version=1.4.6

install() {
  if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "aiosmtpd==$aiosmtpd_version"; then
    python3 -m venv "$venv" || {
      echo "mail-sink: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
      exit 1
    }
    "$venv/bin/pip" install -q "aiosmtpd==$aiosmtpd_version"
  fi
}

case "${1:-}" in
  install) install ;;
  run)
    install
    exec "$venv/bin/python" "$root/scripts/mail_sink.py" --port "$2" --dir "$3"
    ;;
  *)
    echo "usage: $0 install | run PORT DIR" >&2
    exit 2
    ;;
esac
