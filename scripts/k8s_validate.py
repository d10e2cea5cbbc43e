"""Checks deploy/k8s: every manifest against the Kubernetes schemas (kubernetes-validate,
strict: an unknown or misspelt field fails), KEDA's resources against the CRD schemas
vendored in deploy/k8s/schemas/ (made strict the same way), and the rules that tie the
manifests to the code: streams named as jobs/src/keys.rs names them, grace periods above
the workers' shutdown deadline, secrets only by reference, every Deployment with its PDB
and (workers) its ScaledObject, the kustomizations complete and naming one image.

    python k8s_validate.py DEPLOY_DIR            check the manifests
    python k8s_validate.py DEPLOY_DIR --self-test  also prove broken copies are refused
"""

import copy
import json
import re
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

# The oldest Kubernetes a customer is likely to run, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.29.0", "1.35.0"]
KEDA_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-triggerauthentication.json",
}
# jobs/src/keys.rs: `{prefix}{{{queue}}}:stream`, consumer group `workers`.
CONSUMER_GROUP = "workers"
DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000  # shared/src/config.rs
# Settings that are secrets (shared/src/config.rs says "environment only"): never a literal.
SECRET_ENV = re.compile(
    r"^(DATABASE_URL|REDIS_URL|AG_DATABASE__URL|AG_REDIS__URL|AG_VAULT__KEYS?|"
    r"AG_API__COOKIE_KEY|AG_LINKEDIN__CLIENT_SECRET|AG_PROVIDERS__GOOGLE__API_KEY|"
    r"AG_STORAGE__S3__SECRET_ACCESS_KEY|AG_STORAGE__S3__ACCESS_KEY_ID)$"
)


def strict(schema):
    """A CRD schema as the API server applies it, but refusing what it would silently
    prune: objects without `additionalProperties` or `x-kubernetes-preserve-unknown-fields`
    take no other fields, so a misspelt `minReplicas` fails instead of vanishing."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # metadata is an opaque object in CRD schemas; the API server checks it as ObjectMeta.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def load(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    if not docs:
        raise SystemExit(f"{path}: no Kubernetes object in it")
    return [(path, d) for d in docs]


def where(path, doc):
    meta = doc.get("metadata") or {}
    return f"{path.name}: {doc.get('kind')} {meta.get('name')}"


def schema_errors(path, doc, keda):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in keda:
        validator = keda[key]
        return [
            f"{where(path, doc)}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
        ]
    errors = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(
                f"{where(path, doc)}: Kubernetes {version}: "
                f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
            )
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(f"{where(path, doc)}: {e.message}")
    return errors


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def rule_errors(objects, kustomizations):
    """The rules the schemas cannot know."""
    errors = []
    by_kind = {}
    for path, doc in objects:
        by_kind.setdefault(doc["kind"], []).append((path, doc))

    config = {}
    for path, doc in by_kind.get("ConfigMap", []):
        config.update(doc.get("data") or {})
        for key in doc.get("data") or {}:
            if SECRET_ENV.match(key):
                errors.append(f"{where(path, doc)}: {key} is a secret; it belongs in the Secret")
    prefix = config.get("AG_QUEUE__PREFIX", "ag:")

    pdb_selectors = [
        (doc["spec"].get("selector", {}).get("matchLabels", {}), path, doc)
        for path, doc in by_kind.get("PodDisruptionBudget", [])
    ]
    scaled = {doc["spec"]["scaleTargetRef"]["name"]: (path, doc) for path, doc in by_kind.get("ScaledObject", [])}
    policies = [doc for _, doc in by_kind.get("NetworkPolicy", [])]

    for kind in ("Deployment", "Job"):
        for path, doc in by_kind.get(kind, []):
            pod = doc["spec"]["template"]["spec"]
            labels = doc["spec"]["template"]["metadata"].get("labels", {})
            security = pod.get("securityContext", {})
            if security.get("runAsNonRoot") is not True:
                errors.append(f"{where(path, doc)}: the pod must set runAsNonRoot: true")
            for c in pod.get("initContainers", []) + pod["containers"]:
                csec = c.get("securityContext", {})
                if csec.get("readOnlyRootFilesystem") is not True:
                    errors.append(f"{where(path, doc)}: container {c['name']}: readOnlyRootFilesystem: true")
                if csec.get("allowPrivilegeEscalation") is not False:
                    errors.append(f"{where(path, doc)}: container {c['name']}: allowPrivilegeEscalation: false")
                if "requests" not in c.get("resources", {}) or "memory" not in c["resources"].get("limits", {}):
                    errors.append(f"{where(path, doc)}: container {c['name']}: resource requests and a memory limit")
                for name, e in env_of(c).items():
                    if SECRET_ENV.match(name) and "secretKeyRef" not in (e.get("valueFrom") or {}):
                        errors.append(f"{where(path, doc)}: {name} must come from a secretKeyRef, never a literal")
            if kind == "Job":
                continue
            if doc["spec"]["selector"].get("matchLabels", {}).items() - labels.items():
                errors.append(f"{where(path, doc)}: the selector does not match the pod's labels")
            if not any(sel and sel.items() <= labels.items() for sel, _, _ in pdb_selectors):
                errors.append(f"{where(path, doc)}: no PodDisruptionBudget selects its pods")
            container = pod["containers"][0]
            errors += metrics_errors(path, doc, container, labels, policies)
            if container.get("command") != ["workers"]:
                if container.get("command") == ["api"]:
                    probes = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
                    for probe, route in probes.items():
                        got = container.get(probe, {}).get("httpGet", {}).get("path")
                        if got != route:
                            errors.append(f"{where(path, doc)}: {probe} must GET {route}, not {got}")
                continue
            # A worker Deployment.
            env = env_of(container)
            deadline = int(
                env.get("AG_WORKERS__SHUTDOWN_DEADLINE_MS", {}).get("value")
                or config.get("AG_WORKERS__SHUTDOWN_DEADLINE_MS")
                or DEFAULT_SHUTDOWN_DEADLINE_MS
            )
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace * 1000 <= deadline + 5_000:
                errors.append(
                    f"{where(path, doc)}: terminationGracePeriodSeconds {grace} must exceed the "
                    f"shutdown deadline ({deadline} ms) by more than 5 s"
                )
            if "replicas" in doc["spec"]:
                errors.append(f"{where(path, doc)}: `replicas` would fight the ScaledObject on each apply")
            args = container.get("args", [])
            if "--queues" not in args:
                errors.append(f"{where(path, doc)}: name its queues with --queues")
                continue
            queues = {q.split("=")[0] for q in args[args.index("--queues") + 1].split(",")}
            name = doc["metadata"]["name"]
            if name not in scaled:
                errors.append(f"{where(path, doc)}: no ScaledObject targets it")
                continue
            so_path, so = scaled[name]
            streams = set()
            lists = set()
            for trigger in so["spec"]["triggers"]:
                meta = trigger.get("metadata", {})
                if trigger["type"] in ("redis", "redis-cluster"):
                    lists.add(meta.get("listName"))
                elif trigger["type"] in ("redis-streams", "redis-cluster-streams"):
                    streams.add(meta.get("stream"))
                else:
                    errors.append(f"{where(so_path, so)}: trigger type {trigger['type']} reads neither a stream nor a list")
                    continue
                group = meta.get("consumerGroup")
                if group is not None and group != CONSUMER_GROUP:
                    errors.append(f"{where(so_path, so)}: consumer group {group!r}, the workers' is {CONSUMER_GROUP!r}")
                if not trigger.get("authenticationRef") and "address" in meta:
                    errors.append(f"{where(so_path, so)}: the Redis address comes from a TriggerAuthentication")
            expected = {f"{prefix}{{{q}}}:stream" for q in queues}
            if streams != expected:
                errors.append(
                    f"{where(so_path, so)}: streams {sorted(streams)} but the Deployment consumes "
                    f"{sorted(expected)} (AG_QUEUE__PREFIX {prefix!r}, jobs/src/keys.rs)"
                )
            # The jobs waiting for their owner's turn are outside the stream: without
            # these lists a backlog of them would never add a pod.
            expected = {f"{prefix}{{{q}}}:fair:waiting" for q in queues}
            if lists != expected:
                errors.append(
                    f"{where(so_path, so)}: waiting lists {sorted(l or '' for l in lists)} but the "
                    f"Deployment consumes {sorted(expected)} (jobs/src/keys.rs, fair_waiting)"
                )

    for name in scaled:
        if name not in {d["metadata"]["name"] for _, d in by_kind.get("Deployment", [])}:
            errors.append(f"ScaledObject {name}: targets no Deployment here")
    for path, doc in by_kind.get("Secret", []):
        if path.name != "secret.example.yaml":
            errors.append(f"{where(path, doc)}: Secrets are created by the operator, not shipped")

    images = set()
    for kdir, k in kustomizations:
        images.add(json.dumps(k.get("images"), sort_keys=True))
        listed = set(k.get("resources", []))
        present = {
            p.name
            for p in kdir.glob("*.yaml")
            if p.name not in ("kustomization.yaml", "secret.example.yaml")
        }
        for missing in sorted(present - listed):
            errors.append(f"{kdir}/kustomization.yaml: {missing} is not in resources")
        for gone in sorted(listed - present):
            errors.append(f"{kdir}/kustomization.yaml: resource {gone} does not exist")
    if len(images) > 1:
        errors.append("the kustomizations name different images: set the same in each")
    return errors


def metrics_errors(path, doc, container, labels, policies):
    """Every process serves its metrics on a `metrics` port it listens on, announces that
    port to Prometheus's pod discovery, and a NetworkPolicy admits scrapes to it."""
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port = ports.get("metrics")
    if port is None:
        return [f"{where(path, doc)}: no container port named metrics"]
    errors = []
    annotations = doc["spec"]["template"]["metadata"].get("annotations") or {}
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(port):
        errors.append(
            f"{where(path, doc)}: the pod must carry prometheus.io/scrape \"true\" and "
            f"prometheus.io/port \"{port}\" (its metrics port)"
        )
    if container.get("command") == ["workers"]:
        args = container.get("args", [])
        bind = args[args.index("--metrics-bind") + 1] if "--metrics-bind" in args[:-1] else None
        setting = "--metrics-bind"
    else:
        bind = env_of(container).get("AG_METRICS__BIND", {}).get("value")
        setting = "AG_METRICS__BIND"
    if bind is None or not bind.endswith(f":{port}"):
        errors.append(f"{where(path, doc)}: {setting} {bind!r} does not listen on the metrics port {port}")
    admitted = any(
        policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
        and any(
            p.get("port") in ("metrics", port)
            for rule in policy["spec"].get("ingress", [])
            for p in rule.get("ports", [])
        )
        for policy in policies
    )
    if not admitted:
        errors.append(f"{where(path, doc)}: no NetworkPolicy admits scrapes to its metrics port")
    return errors


def check(objects, kustomizations, keda):
    errors = []
    for path, doc in objects:
        errors += schema_errors(path, doc, keda)
    if not errors:  # the rules assume well-formed objects
        errors += rule_errors(objects, kustomizations)
    return errors


def self_test(objects, kustomizations, keda):
    """Breaks good manifests in known ways; each must be refused."""

    def broken(kind, name, mutate):
        copies = copy.deepcopy(objects)
        for _, doc in copies:
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                mutate(doc)
                return copies
        raise SystemExit(f"self-test: no {kind} {name} to break")

    def container(doc):
        return doc["spec"]["template"]["spec"]["containers"][0]

    cases = {
        "a misspelt Deployment field": broken(
            "Deployment", "astrogrowth-api", lambda d: d["spec"].update(replica=2)
        ),
        "a port that is not a number": broken(
            "Deployment",
            "astrogrowth-api",
            lambda d: container(d)["ports"][0].update(containerPort="eighty"),
        ),
        "a misspelt ScaledObject field": broken(
            "ScaledObject",
            "astrogrowth-workers-generate",
            lambda d: d["spec"].update(minReplicas=d["spec"].pop("minReplicaCount")),
        ),
        "a ScaledObject without triggers": broken(
            "ScaledObject", "astrogrowth-workers-generate", lambda d: d["spec"].pop("triggers")
        ),
        "a stream name without the hash tag": broken(
            "ScaledObject",
            "astrogrowth-workers-publish",
            lambda d: d["spec"]["triggers"][0]["metadata"].update(stream="ag:publish:stream"),
        ),
        "a queue's waiting list left out": broken(
            "ScaledObject",
            "astrogrowth-workers-generate",
            lambda d: d["spec"].update(
                triggers=[t for t in d["spec"]["triggers"] if t["type"] != "redis"]
            ),
        ),
        "a grace period under the shutdown deadline": broken(
            "Deployment",
            "astrogrowth-workers-generate",
            lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=30),
        ),
        "a worker listening for metrics on another port than it announces": broken(
            "Deployment",
            "astrogrowth-workers-publish",
            lambda d: container(d).update(
                args=[a.replace(":9465", ":9999") for a in container(d)["args"]]
            ),
        ),
        "an api pod Prometheus cannot discover": broken(
            "Deployment",
            "astrogrowth-api",
            lambda d: d["spec"]["template"]["metadata"].pop("annotations"),
        ),
        "metrics no NetworkPolicy admits": broken(
            "NetworkPolicy",
            "astrogrowth-workers",
            lambda d: d["spec"].update(ingress=[]),
        ),
        "a literal secret": broken(
            "Deployment",
            "astrogrowth-workers-publish",
            lambda d: container(d)["env"].append({"name": "AG_VAULT__KEY", "value": "c2VjcmV0"}),
        ),
    }
    failed = []
    for what, copies in cases.items():
        if not check(copies, kustomizations, keda):
            failed.append(what)
    if failed:
        raise SystemExit("self-test: accepted although broken: " + "; ".join(failed))
    print(f"self-test: {len(cases)} broken copies refused")


def main():
    deploy = Path(sys.argv[1])
    schemas = deploy / "schemas"
    keda = {}
    for key, file in KEDA_SCHEMAS.items():
        schema = strict(json.loads((schemas / file).read_text()))
        jsonschema.Draft7Validator.check_schema(schema)
        keda[key] = jsonschema.Draft7Validator(schema)

    kustomizations = []
    objects = []
    for kfile in sorted(deploy.rglob("kustomization.yaml")):
        k = yaml.safe_load(kfile.read_text())
        kustomizations.append((kfile.parent, k))
        for resource in k.get("resources", []):
            path = kfile.parent / resource
            if path.is_file():
                objects += load(path)
    # Not applied, but operators copy it: it must be valid too.
    objects += load(deploy / "secret.example.yaml")

    errors = check(objects, kustomizations, keda)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        raise SystemExit(f"{len(errors)} problem(s) in {deploy}")
    print(
        f"{len(objects)} objects in {deploy} valid (Kubernetes {', '.join(KUBERNETES_VERSIONS)}, "
        f"KEDA schemas, deployment rules)"
    )
    if "--self-test" in sys.argv[2:]:
        self_test(objects, kustomizations, keda)


if __name__ == "__main__":
    main()
