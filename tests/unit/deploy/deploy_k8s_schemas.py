"""Validators for rendered Kubernetes objects.

- Core objects (Deployment, Service, CronJob, PDB, HPA, ...): the Kubernetes JSON schemas that the
  PyPI package ``kubernetes-validate`` ships, in strict mode (unknown fields are errors).
- Custom resources: the ``openAPIV3Schema`` of each operator's own CRD, installed into ``.tools/crds``
  by scripts/install-k8s-tools.sh, made strict the same way (an API server would silently prune an
  unknown field; here it is an error), plus a small hand-written schema per kind of the fields the
  operator needs to do its job (:mod:`deploy_operator_rules`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from deploy_operator_rules import OPERATOR_RULES
from deploy_render import FAST_LOADER, tool_file

#: The Kubernetes version the manifests target (kubernetes-validate ships 1.25 ... 1.37).
K8S_VERSION = "1.33"

#: Custom resource (group, kind) -> the CRD file in .tools/crds.
CRD_FILES: dict[tuple[str, str], str] = {
    ("kafka.strimzi.io", "Kafka"): "crds/kafka.strimzi.io_kafkas.yaml",
    ("kafka.strimzi.io", "KafkaNodePool"): "crds/kafka.strimzi.io_kafkanodepools.yaml",
    ("kafka.strimzi.io", "KafkaTopic"): "crds/kafka.strimzi.io_kafkatopics.yaml",
    ("flink.apache.org", "FlinkDeployment"): "crds/flink.apache.org_flinkdeployments.yaml",
    ("serving.kserve.io", "InferenceService"): "crds/serving.kserve.io_inferenceservices.yaml",
    ("keda.sh", "ScaledObject"): "crds/keda.sh_scaledobjects.yaml",
    ("kubeflow.org", "PyTorchJob"): "crds/kubeflow.org_pytorchjobs.yaml",
}

#: The Flink operator CRD on Maven Central here is 1.10.0, whose flinkVersion enum stops at v1_20;
#: operator 1.13 accepts the Flink 2.x lines this project runs.
EXTRA_ENUMS = {("flink.apache.org", "FlinkDeployment"): {("flinkVersion",): ["v2_0", "v2_1", "v2_2"]}}


class ManifestInvalidError(AssertionError):
    """An object does not match its schema; the message names the object and the path."""


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def is_custom(obj: dict) -> bool:
    return (group_of(obj["apiVersion"]), obj["kind"]) in CRD_FILES


def label(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def validate_core(obj: dict) -> None:
    """A built-in Kubernetes object against the official JSON schema (strict)."""
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path)
        raise ManifestInvalidError(f"{label(obj)}: {path}: {exc.message}") from exc
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise ManifestInvalidError(f"{label(obj)}: {exc.message}") from exc


def _strict(schema: Any) -> Any:
    """OpenAPI v3 (CRD flavour) -> JSON Schema: nullable, and no unknown fields where none are allowed."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _crd_version(group: str, kind: str, version: str) -> dict:
    crd = yaml.load(tool_file(CRD_FILES[(group, kind)]).read_text(), Loader=FAST_LOADER)
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            if not entry.get("served", False):
                raise ManifestInvalidError(f"{group}/{version} {kind} is not served by the CRD")
            return copy.deepcopy(entry["schema"]["openAPIV3Schema"])
    served = [e["name"] for e in crd["spec"]["versions"]]
    raise ManifestInvalidError(f"{kind}: the CRD has no version {version} (it has {served})")


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    group, version = api_version.rsplit("/", 1)
    schema = _crd_version(group, kind, version)
    spec_props = schema["properties"]["spec"].get("properties", {})
    for path, extra in EXTRA_ENUMS.get((group, kind), {}).items():
        node = spec_props
        for key in path[:-1]:
            node = node[key]["properties"]
        node[path[-1]]["enum"] = sorted(set(node[path[-1]]["enum"]) | set(extra))
    strict = _strict(schema)
    # metadata is ObjectMeta (which the CRDs leave open); some CRDs omit apiVersion/kind altogether.
    strict["properties"].update(
        apiVersion={"const": api_version}, kind={"const": kind}, metadata={"type": "object"}
    )
    return jsonschema.Draft202012Validator(strict)


def _errors(validator: jsonschema.protocols.Validator, obj: dict) -> Iterator[str]:
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path)
        yield f"{path}: {error.message[:300]}"


def validate_custom(obj: dict) -> None:
    """A custom resource against its operator's CRD schema and the operator's required fields."""
    problems = list(_errors(crd_validator(obj["apiVersion"], obj["kind"]), obj))
    rules = OPERATOR_RULES.get(obj["kind"])
    if rules is not None:
        problems += [f"(operator needs) {p}" for p in _errors(jsonschema.Draft202012Validator(rules), obj)]
    if problems:
        raise ManifestInvalidError(f"{label(obj)}:\n  " + "\n  ".join(problems))


def validate(obj: dict) -> None:
    """Whichever check applies to ``obj``."""
    if is_custom(obj):
        validate_custom(obj)
    else:
        validate_core(obj)
