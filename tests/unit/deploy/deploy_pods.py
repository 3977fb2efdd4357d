"""Walk the pod specs and containers inside rendered objects, whatever their kind."""

from __future__ import annotations

from collections.abc import Iterator


def pod_specs(obj: dict) -> Iterator[tuple[str, dict]]:
    """(where, pod spec) for every pod an object would run."""
    spec = obj.get("spec", {})
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
        yield kind, spec["template"]["spec"]
    elif kind == "CronJob":
        yield kind, spec["jobTemplate"]["spec"]["template"]["spec"]
    elif kind == "PyTorchJob":
        for role, replica in spec["pytorchReplicaSpecs"].items():
            yield role, replica["template"]["spec"]
    elif kind == "InferenceService":
        yield "predictor", spec["predictor"]
    elif kind == "FlinkDeployment":
        yield "podTemplate", spec.get("podTemplate", {}).get("spec", {})


def containers(obj: dict) -> Iterator[dict]:
    for _, pod in pod_specs(obj):
        yield from pod.get("containers", [])


def pod_annotations(obj: dict) -> dict:
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return obj["spec"]["template"].get("metadata", {}).get("annotations", {})
    if obj["kind"] == "InferenceService":
        return obj["metadata"].get("annotations", {})
    if obj["kind"] == "FlinkDeployment":
        return obj["spec"].get("podTemplate", {}).get("metadata", {}).get("annotations", {})
    return {}


def arg_after(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None
