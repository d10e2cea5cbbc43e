#!/usr/bin/env bash
# `just test` (and `just openapi-validate`): the OpenAPI document checked by
# openapi-spec-validator (PyPI, pinned), the validator client generators and schemathesis
# agree with: operationIds unique, $refs resolving, schemas valid for OpenAPI 3.1.
# The document is printed by `api openapi` (the same text /api/openapi.json serves), so no
# server, database or Redis is needed. The validator lives in a venv under .run/.
#   scripts/openapi-validate.sh [API_BIN]    default: a debug build via cargo run
set -euo pipefail
venv="$(pwd)/.run/venv-openapi"
validator_version=0.9.0
doc="$(pwd)/.run/openapi.json"

if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "openapi-spec-validator==$validator_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==$validator_version"
fi

mkdir -p "$(dirname "$doc")"
if [ $# -ge 1 ]; then
  "$1" openapi >"$doc"
else
  SQLX_OFFLINE=true cargo run --quiet --bin api -- openapi >"$doc"
fi
"$venv/bin/openapi-spec-validator" "$doc"
