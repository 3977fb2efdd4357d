"""k8s/flink: the FlinkDeployment runs the feature job module with arguments it accepts."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.cli import build_parser
from fieldstream.paths import PROJECT_ROOT
from stream_jobs.features.job import cluster_arg_parser

K8S = PROJECT_ROOT / "k8s" / "flink"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_flinkdeployment_runs_the_pyflink_job_with_checkpoints_and_resources():
    [dep] = _docs(K8S / "flinkdeployment.yaml")
    assert (dep["apiVersion"], dep["kind"], dep["metadata"]["name"]) == (
        "flink.apache.org/v1beta1",
        "FlinkDeployment",
        "features",
    )
    spec = dep["spec"]
    job = spec["job"]
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert job["jarURI"].startswith("local:///opt/flink/opt/flink-python-2.2")
    args = job["args"]
    module = args[args.index("-pym") + 1]
    assert module == "stream_jobs.features.job"
    parsed = cluster_arg_parser().parse_args(args[args.index("-pym") + 2 :])
    assert parsed.kinds == ["frames", "audio"] and parsed.archive == "/flink-data/media"
    assert job["upgradeMode"] == "savepoint" and job["parallelism"] == parsed.parallelism
    conf = spec["flinkConfiguration"]
    assert conf["python.executable"] == args[args.index("-pyexec") + 1]
    assert conf["execution.checkpointing.dir"].startswith("file:///flink-data/")
    assert conf["execution.checkpointing.mode"] == "EXACTLY_ONCE"
    assert conf["metrics.reporter.prom.port"] == "9249"
    for role in ("jobManager", "taskManager"):
        assert {"cpu", "memory"} <= set(spec[role]["resource"])
    container = spec["podTemplate"]["spec"]["containers"][0]
    assert container["volumeMounts"][0]["mountPath"] == "/flink-data"


def test_kustomization_lists_every_manifest_and_the_history_sink_command_exists():
    [kust] = _docs(K8S / "kustomization.yaml")
    assert sorted(kust["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    [sink] = _docs(PROJECT_ROOT / "k8s" / "base" / "agents" / "history-sink.yaml")
    container = sink["spec"]["template"]["spec"]["containers"][0]
    parsed = build_parser().parse_args(container["args"])
    assert (parsed.command, parsed.verb) == ("history", "sink")
    assert parsed.health_port == container["ports"][0]["containerPort"] == 9100
