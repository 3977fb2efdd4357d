"""kafka/topics.yaml is the one declaration of the topics: the Strimzi KafkaTopics and the compose
topic-init script are generated from it (k8s/tools/gen_topics.py) and must not drift."""

from __future__ import annotations

import importlib.util

import pytest
from deploy_render import K8S, find, rendered

from fieldstream.topics import load_topic_specs


def _generator():
    spec = importlib.util.spec_from_file_location("gen_topics", K8S / "tools" / "gen_topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DECLARED = {s.name: s for s in load_topic_specs()}


def test_generated_files_are_up_to_date():
    for path, text in _generator().outputs().items():
        assert path.read_text() == text, f"{path} is stale: run python k8s/tools/gen_topics.py"


def test_a_changed_declaration_makes_them_stale(tmp_path):
    changed = tmp_path / "topics.yaml"
    changed.write_text("topics:\n  frames.raw.v1:\n    partitions: 3\n")
    for path, text in _generator().outputs(changed).items():
        assert path.read_text() != text


def _topics(target: str) -> dict[str, dict]:
    return {t["spec"]["topicName"]: t for t in find(rendered(target), "KafkaTopic")}


@pytest.mark.parametrize("target", ["base", "dev"])
def test_kafka_topics_are_exactly_the_declared_topics(target):
    topics = _topics(target)
    assert set(topics) == set(DECLARED)
    for name, spec in DECLARED.items():
        got = topics[name]["spec"]
        assert got["partitions"] == spec.partitions, name
        assert got["replicas"] == spec.replication_factor, name
        assert got["config"] == spec.config, name


def test_prod_topics_grow_but_keep_the_declared_settings():
    topics = _topics("prod")
    pools = find(rendered("prod"), "KafkaNodePool")
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert set(topics) == set(DECLARED)
    for name, spec in DECLARED.items():
        got = topics[name]["spec"]
        assert got["partitions"] >= spec.partitions, name
        assert got["replicas"] == 3 <= brokers, name
        assert {k: v for k, v in got["config"].items() if k in spec.config} == spec.config, name
        assert got["config"]["min.insync.replicas"] == "2"
    assert sum(t["spec"]["partitions"] for t in topics.values()) > sum(
        s.partitions for s in DECLARED.values()
    )
