"""What every FieldStream pod must have on a cluster, and what must agree between objects:
commands that exist, secrets only by reference, resources, probes (one meaning of health), Prometheus
annotations, KEDA triggers that match the workers' consumer groups and the topics' partitions."""

from __future__ import annotations

import copy

import pytest
import yaml
from deploy_cli import CLI_IMAGES, check, cli_args, image_name, registered_commands
from deploy_health import k8s_probe_problems, serves_health
from deploy_pods import arg_after, containers, pod_annotations, pod_specs
from deploy_render import K8S, ROOT, find, one, rendered
from deploy_secrets import k8s_secret_problems

TARGETS = ("base", "dev", "prod")
LONG_RUNNING = ("Deployment", "StatefulSet", "InferenceService")


def _example_secret_keys() -> set[str]:
    return set(yaml.safe_load((K8S / "secret.example.yaml").read_text())["stringData"])


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_are_only_referenced(target):
    assert k8s_secret_problems(rendered(target), _example_secret_keys()) == []


def test_a_committed_secret_is_caught():
    objects = copy.deepcopy(list(rendered("base")))
    history = next(o for o in objects if o["metadata"]["name"] == "history-sink")
    env = history["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0] = {"name": "FIELDSTREAM_POSTGRES_DSN", "value": "postgresql://fieldstream:hunter2@db/fieldstream"}
    env.append({"name": "X", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}})
    objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}})
    assert len(k8s_secret_problems(objects, _example_secret_keys())) == 4


@pytest.mark.parametrize("target", TARGETS)
def test_config_maps_that_pods_read_are_rendered(target):
    objects = rendered(target)
    config_maps = {o["metadata"]["name"] for o in find(objects, "ConfigMap")}
    for obj in objects:
        for container in containers(obj):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
    config = one(objects, "ConfigMap", "fieldstream-config")["data"]
    kafka = find(objects, "Kafka")[0]["metadata"]["name"]
    assert config["FIELDSTREAM_KAFKA_BOOTSTRAP"].startswith(f"{kafka}-kafka-bootstrap.")


@pytest.mark.parametrize("target", TARGETS)
def test_containers_have_requests_limits_and_probes(target):
    for obj in rendered(target):
        for container in containers(obj):
            where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
            if obj["kind"] == "FlinkDeployment":  # sized by jobManager/taskManager.resource
                continue
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{where}: {part}"
            if obj["kind"] in LONG_RUNNING:
                assert "readinessProbe" in container, f"{where}: readinessProbe"
                assert "livenessProbe" in container, f"{where}: livenessProbe"


@pytest.mark.parametrize("target", TARGETS)
def test_our_probes_on_the_metrics_port_mean_live_and_ready(target):
    checked = set()
    for obj in rendered(target):
        for container in containers(obj):
            if image_name(container.get("image", "")) in CLI_IMAGES and serves_health(container):
                where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
                assert k8s_probe_problems(container) == [], where
                checked.add(obj["metadata"]["name"])
    assert {"worker-vision", "worker-audio", "agents", "history-sink"} <= checked


def test_a_probe_with_another_meaning_is_caught():
    old = {
        "ports": [{"name": "metrics", "containerPort": 9100}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}},
        "livenessProbe": {"tcpSocket": {"port": "metrics"}},
    }
    assert k8s_probe_problems(old) == ["livenessProbe: must GET /healthz", "readinessProbe: must GET /readyz"]
    elsewhere = {"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}
    assert k8s_probe_problems(elsewhere) == [
        "livenessProbe: not on the metrics port",
        "readinessProbe: missing",
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_our_services_are_scraped_by_prometheus(target):
    for obj in rendered(target):
        if obj["kind"] not in (*LONG_RUNNING, "FlinkDeployment"):
            continue
        ours = [c for c in containers(obj) if image_name(c.get("image", "")) in CLI_IMAGES]
        if not ours and obj["kind"] != "FlinkDeployment":
            continue
        annotations = pod_annotations(obj)
        assert annotations.get("prometheus.io/scrape") == "true", obj["metadata"]["name"]
        ports = {p["containerPort"] for c in containers(obj) for p in c.get("ports", [])}
        assert int(annotations["prometheus.io/port"]) in ports, obj["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_images_are_pinned(target):
    images = [c["image"] for o in rendered(target) for c in containers(o) if "image" in c]
    images += [o["spec"]["image"] for o in find(rendered(target), "FlinkDeployment")]
    for image in images:
        tag = image.rsplit("/", 1)[-1]
        assert ":" in tag and not tag.endswith(":latest"), image


@pytest.mark.parametrize("target", TARGETS)
def test_our_containers_run_fieldstream_commands(target):
    seen = 0
    for obj in rendered(target):
        for container in containers(obj):
            if image_name(container.get("image", "")) not in CLI_IMAGES:
                continue
            argv = cli_args(container.get("command"), container.get("args"))
            assert check(argv) in ("ok", "pending"), argv
            seen += 1
    assert seen >= 8  # workers x2, agents, history sink, serving x2, training x2 (x2 roles)


def test_a_wrong_command_is_caught():
    with pytest.raises(AssertionError, match="--bogus"):
        check(["worker", "vision", "--bogus"])
    with pytest.raises(AssertionError, match="not the fieldstream CLI"):
        cli_args(["python"], ["-m", "http.server"])
    assert check(["no-such-command"]) == "pending"


def test_commands_are_checked_against_the_root_cli_and_its_components():
    # the root's own commands and those the components register through entry points
    assert {"stack", "demo", "produce", "features", "history", "worker", "serve", "train"} <= (
        registered_commands()
    )
    assert cli_args(["python", "-m", "app"], ["worker", "vision"]) == ["worker", "vision"]
    assert cli_args(["fieldstream"], ["serve"]) == ["serve"]
    with pytest.raises(AssertionError, match="not the fieldstream CLI"):
        cli_args(["python", "-m", "fieldstream"], ["serve"])  # the kernel has no __main__


@pytest.mark.parametrize("target", TARGETS)
def test_keda_scales_each_worker_on_its_own_consumer_group(target):
    objects = rendered(target)
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in find(objects, "KafkaTopic")}
    scaled = find(objects, "ScaledObject")
    assert {s["metadata"]["name"] for s in scaled} == {"worker-vision", "worker-audio"}
    for so in scaled:
        deployment = one(objects, "Deployment", so["spec"]["scaleTargetRef"]["name"])
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        (trigger,) = so["spec"]["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["consumerGroup"] == arg_after(args, "--group")
        assert meta["topic"] in partitions
        config = one(objects, "ConfigMap", "fieldstream-config")["data"]
        assert meta["bootstrapServers"] == config["FIELDSTREAM_KAFKA_BOOTSTRAP"]
        spec = so["spec"]
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions[meta["topic"]], (
            f"{so['metadata']['name']}: more consumers than partitions would idle"
        )


@pytest.mark.parametrize("target", TARGETS)
def test_the_flink_job_matches_its_module(target):
    (flink,) = find(rendered(target), "FlinkDeployment")
    job = flink["spec"]["job"]
    module = arg_after(job["args"], "-pym")
    source = ROOT / (module.replace(".", "/") + ".py")
    assert source.exists(), module
    for flag in ("--kinds", "--job-name", "--parallelism"):
        if flag in job["args"]:
            assert f'"{flag}"' in source.read_text(), f"{module} has no {flag}"
    assert int(arg_after(job["args"], "--parallelism")) == job["parallelism"]
    version = flink["spec"]["flinkVersion"].removeprefix("v").replace("_", ".")
    assert f"flink-python-{version}." in job["jarURI"]


@pytest.mark.parametrize("target", TARGETS)
def test_training_is_a_master_and_workers_each_running_fieldstream_train(target):
    for job in find(rendered(target), "PyTorchJob"):
        kind = job["metadata"]["name"].removeprefix("train-")
        assert set(job["spec"]["pytorchReplicaSpecs"]) == {"Master", "Worker"}
        for role, pod in pod_specs(job):
            (container,) = pod["containers"]
            assert "command" not in container, f"{role}: the entrypoint (fieldstream) starts torchrun"
            assert container["args"][:2] == ["train", kind], role
        assert job["spec"]["runPolicy"]["suspend"] is True  # a template: the CronJob starts copies


@pytest.mark.parametrize("target", TARGETS)
def test_the_retrain_cronjob_may_start_the_training_jobs(target):
    objects = rendered(target)
    cron = one(objects, "CronJob", "retrain")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    script = " ".join(pod["containers"][0]["args"])
    for job in find(objects, "PyTorchJob"):
        assert job["metadata"]["name"].removeprefix("train-") in script
    role = one(objects, "Role", pod["serviceAccountName"])
    allowed = {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert {("kubeflow.org", "pytorchjobs", "get"), ("kubeflow.org", "pytorchjobs", "create")} <= allowed
    binding = one(objects, "RoleBinding", pod["serviceAccountName"])
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    one(objects, "ServiceAccount", pod["serviceAccountName"])
