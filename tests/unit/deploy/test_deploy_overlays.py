"""dev is small and quiet; prod is replicated, budgeted against disruptions and scaled further."""

from __future__ import annotations

from deploy_pods import containers
from deploy_render import find, one, rendered

DEV, PROD = rendered("dev"), rendered("prod")
QUANTITY = {"": 1, "m": 0.001, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _quantity(value: str | int | float) -> float:
    text = str(value)
    for suffix in ("Ki", "Mi", "Gi", "m"):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * QUANTITY[suffix]
    return float(text)


def test_dev_is_small():
    assert all(so["spec"]["maxReplicaCount"] <= 2 for so in find(DEV, "ScaledObject"))
    assert one(DEV, "KafkaNodePool", "dual-role")["spec"]["replicas"] == 1
    assert one(DEV, "CronJob", "retrain")["spec"]["suspend"] is True
    assert one(DEV, "ConfigMap", "fieldstream-config")["data"]["FIELDSTREAM_LOG_LEVEL"] == "debug"
    assert not find(DEV, "PodDisruptionBudget") and not find(DEV, "HorizontalPodAutoscaler")


def test_prod_replicates_kafka():
    assert one(PROD, "KafkaNodePool", "dual-role")["spec"]["replicas"] == 3
    config = one(PROD, "Kafka", "fieldstream")["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2


def test_prod_budgets_disruptions_of_every_consumer():
    budgets = find(PROD, "PodDisruptionBudget")
    assert {b["metadata"]["name"] for b in budgets} == {
        "worker-vision",
        "worker-audio",
        "agents",
        "history-sink",
    }
    for budget in budgets:
        deployment = one(PROD, "Deployment", budget["metadata"]["name"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        minimum = budget["spec"]["minAvailable"]
        scaled = find(PROD, "ScaledObject", budget["metadata"]["name"])
        replicas = scaled[0]["spec"]["minReplicaCount"] if scaled else deployment["spec"]["replicas"]
        assert minimum < replicas, f"{budget['metadata']['name']}: a budget that blocks every drain"


def test_prod_autoscaling_bounds():
    for so in find(PROD, "ScaledObject"):
        dev = one(DEV, "ScaledObject", so["metadata"]["name"])
        assert so["spec"]["minReplicaCount"] >= 2
        assert so["spec"]["maxReplicaCount"] > dev["spec"]["maxReplicaCount"]
    (hpa,) = find(PROD, "HorizontalPodAutoscaler")
    target = one(PROD, hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])
    assert 2 <= hpa["spec"]["minReplicas"] <= target["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    for isvc in find(PROD, "InferenceService"):
        predictor = isvc["spec"]["predictor"]
        assert predictor["minReplicas"] >= 2 and 0 < predictor["canaryTrafficPercent"] < 100


def test_prod_workers_get_more_than_dev():
    for name in ("worker-vision", "worker-audio"):
        (prod,) = containers(one(PROD, "Deployment", name))
        (dev,) = containers(one(DEV, "Deployment", name))
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert _quantity(prod["resources"][part][resource]) > _quantity(
                    dev["resources"][part][resource]
                )


def test_prod_trains_on_gpus_with_more_workers():
    for job in find(PROD, "PyTorchJob"):
        specs = job["spec"]["pytorchReplicaSpecs"]
        assert (
            specs["Worker"]["replicas"]
            > one(DEV, "PyTorchJob", job["metadata"]["name"])["spec"]["pytorchReplicaSpecs"]["Worker"][
                "replicas"
            ]
        )
        for container in containers(job):
            assert container["image"].startswith("fieldstream/fieldstream-gpu:")
            assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    for job in find(DEV, "PyTorchJob"):
        for container in containers(job):
            assert "nvidia.com/gpu" not in container["resources"]["limits"]
