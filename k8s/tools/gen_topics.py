"""Generate the Strimzi KafkaTopics and the compose topic-init script from ``kafka/topics.yaml``.

``kafka/topics.yaml`` is the one declaration of FieldStream's topics. This writes what the two
deployments derive from it, and ``tests/unit/deploy/test_topics.py`` fails when either drifts:

    python k8s/tools/gen_topics.py          # rewrite both files
    python k8s/tools/gen_topics.py --check  # exit 1 if either is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from fieldstream.topics import TopicSpec, load_topic_specs

ROOT = Path(__file__).resolve().parents[2]
TOPICS_YAML = ROOT / "kafka" / "topics.yaml"
KAFKA_TOPICS_MANIFEST = ROOT / "k8s" / "base" / "kafka" / "topics.yaml"
COMPOSE_SCRIPT = ROOT / "docker" / "kafka" / "create-topics.sh"
CLUSTER = "fieldstream"
HEADER = "# GENERATED from kafka/topics.yaml by k8s/tools/gen_topics.py: do not edit by hand.\n"


def resource_name(topic: str) -> str:
    """A Kubernetes name for a topic: dots become dashes (the Kafka name stays in spec.topicName)."""
    return topic.replace(".", "-").replace("_", "-").lower()


def kafka_topic(spec: TopicSpec) -> dict:
    """One Strimzi KafkaTopic, exactly as declared (overlays scale partitions and replicas)."""
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": resource_name(spec.name), "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": spec.replication_factor,
            "config": dict(sorted(spec.config.items())),
        },
    }


def render_manifest(specs: list[TopicSpec]) -> str:
    docs = [yaml.safe_dump(kafka_topic(s), sort_keys=False) for s in specs]
    return HEADER + "---\n".join(docs)


def render_script(specs: list[TopicSpec]) -> str:
    lines = [
        "#!/usr/bin/env bash",
        HEADER.rstrip("\n"),
        "# Run by the compose service topic-init (apache/kafka image): creates each topic once.",
        "set -euo pipefail",
        'BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:19092}"',
        'TOPICS="${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh"',
    ]
    for s in specs:
        configs = " ".join(f"--config {k}={v}" for k, v in sorted(s.config.items()))
        lines.append(
            f'"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic {s.name}'
            f" --partitions {s.partitions} --replication-factor {s.replication_factor} {configs}".rstrip()
        )
    lines.append('"$TOPICS" --bootstrap-server "$BOOTSTRAP" --list')
    return "\n".join(lines) + "\n"


def outputs(topics_yaml: Path = TOPICS_YAML) -> dict[Path, str]:
    specs = load_topic_specs(topics_yaml)
    return {KAFKA_TOPICS_MANIFEST: render_manifest(specs), COMPOSE_SCRIPT: render_script(specs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    stale = [p for p, text in outputs().items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python k8s/tools/gen_topics.py)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.suffix == ".sh":
            path.chmod(0o755)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
