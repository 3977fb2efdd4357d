#!/usr/bin/env bash
# GENERATED from kafka/topics.yaml by k8s/tools/gen_topics.py: do not edit by hand.
# Run by the compose service topic-init (apache/kafka image): creates each topic once.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:19092}"
TOPICS="${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh"
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic frames.raw.v1 --partitions 8 --replication-factor 1 --config max.message.bytes=10485760 --config retention.ms=86400000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic audio.raw.v1 --partitions 4 --replication-factor 1 --config max.message.bytes=10485760 --config retention.ms=86400000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic features.frames.v1 --partitions 4 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic features.audio.v1 --partitions 4 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic detections.vision.v1 --partitions 4 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic detections.audio.v1 --partitions 4 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic labels.v1 --partitions 4 --replication-factor 1 --config retention.ms=2592000000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic actions.spray.v1 --partitions 8 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic insights.species.v1 --partitions 4 --replication-factor 1 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic models.events.v1 --partitions 1 --replication-factor 1 --config cleanup.policy=compact --config min.compaction.lag.ms=60000 --config retention.ms=604800000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic deadletter.v1 --partitions 1 --replication-factor 1 --config max.message.bytes=10485760 --config retention.ms=2592000000
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --list
