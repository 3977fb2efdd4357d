"""Every object each overlay renders matches its schema: Kubernetes' own for built-in kinds, the
operator's CRD (+ what the operator needs) for custom resources. And broken objects are rejected."""

from __future__ import annotations

import copy
import subprocess

import pytest
from deploy_k8s_schemas import ManifestInvalidError, is_custom, validate, validate_core, validate_custom
from deploy_render import build, one, rendered

TARGETS = ("base", "dev", "prod")


def _problems(objects: tuple[dict, ...], custom: bool) -> list[str]:
    problems = []
    for obj in objects:
        if is_custom(obj) != custom:
            continue
        try:
            validate(obj)
        except ManifestInvalidError as exc:
            problems.append(str(exc))
    return problems


@pytest.mark.parametrize("target", TARGETS)
def test_core_objects_match_the_kubernetes_schemas(target):
    assert not _problems(rendered(target), custom=False)


@pytest.mark.parametrize("target", TARGETS)
def test_custom_resources_match_their_operator_crds(target):
    assert not _problems(rendered(target), custom=True)


@pytest.mark.parametrize("target", TARGETS)
def test_the_overlay_has_every_part_of_the_system(target):
    kinds = {o["kind"] for o in rendered(target)}
    assert {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "FlinkDeployment",
        "InferenceService",
        "ScaledObject",
        "PyTorchJob",
        "CronJob",
        "StatefulSet",
        "Deployment",
        "Service",
        "PersistentVolumeClaim",
        "ConfigMap",
    } <= kinds


def _base(kind: str, name: str) -> dict:
    return copy.deepcopy(one(rendered("base"), kind, name))


def test_a_broken_core_object_is_rejected():
    deployment = _base("Deployment", "worker-vision")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(ManifestInvalidError, match="replicas"):
        validate_core(deployment)


def test_an_unknown_core_field_is_rejected():
    deployment = _base("Deployment", "worker-vision")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(ManifestInvalidError, match="imagePullPolicyy"):
        validate_core(deployment)


def _set(obj: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    node = obj
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


DELETE = object()

#: (kind, name, path, new value, a fragment of the expected error)
BROKEN = [
    ("Kafka", "fieldstream", "spec.kafka.listeners", DELETE, "listeners"),
    ("Kafka", "fieldstream", "spec.kafka.listeners.0.type", "sideways", "sideways"),
    ("KafkaNodePool", "dual-role", "spec.roles", ["broker", "zookeeper"], "zookeeper"),
    ("KafkaNodePool", "dual-role", "metadata.labels", {}, "strimzi.io/cluster"),
    ("KafkaTopic", "frames-raw-v1", "spec.partitions", "eight", "eight"),
    ("KafkaTopic", "frames-raw-v1", "metadata.labels", {}, "strimzi.io/cluster"),
    ("FlinkDeployment", "features", "spec.flinkVersion", "v9_9", "v9_9"),
    ("FlinkDeployment", "features", "spec.jobManger", {"replicas": 1}, "jobManger"),
    ("FlinkDeployment", "features", "spec.job.jarURI", DELETE, "jarURI"),
    ("InferenceService", "vision-detector", "spec.predictor.minReplicas", "one", "one"),
    (
        "InferenceService",
        "vision-detector",
        "spec.predictor.canaryTrafficPercent",
        DELETE,
        "canaryTrafficPercent",
    ),
    ("ScaledObject", "worker-vision", "spec.triggers", DELETE, "triggers"),
    ("ScaledObject", "worker-vision", "spec.triggers.0.metadata.consumerGroup", DELETE, "consumerGroup"),
    ("PyTorchJob", "train-vision", "spec.pytorchReplicaSpecs.Worker", DELETE, "Worker"),
    (
        "PyTorchJob",
        "train-vision",
        "spec.pytorchReplicaSpecs.Master.template.spec.containers.0.name",
        "trainer",
        "pytorch",
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "fragment"), BROKEN, ids=[f"{b[0]}:{b[2]}" for b in BROKEN]
)
def test_a_broken_custom_resource_is_rejected(kind, name, path, value, fragment):
    obj = _base(kind, name)
    validate_custom(obj)  # the intact object passes
    _set(obj, path, value)
    with pytest.raises(ManifestInvalidError, match=fragment):
        validate_custom(obj)


def test_an_unserved_custom_resource_version_is_rejected():
    topic = _base("KafkaTopic", "frames-raw-v1")
    topic["apiVersion"] = "kafka.strimzi.io/v2"
    with pytest.raises(ManifestInvalidError, match="no version v2"):
        validate_custom(topic)


def test_a_broken_kustomization_does_not_render(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(subprocess.CalledProcessError):
        build(tmp_path)
