"""The rebalance callbacks alone: what the worker owns, how many rebalances took partitions away,
and that a revocation and a loss each run the worker's own reaction before the partitions go."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from inference_workers.worker.rebalance import Rebalances


def test_owned_partitions_follow_assignments_revocations_and_losses():
    events: list[tuple[str, list]] = []
    rebalances = Rebalances(
        on_revoke=lambda: events.append(("commit", rebalances.owned())),
        on_lost=lambda: events.append(("abort", rebalances.owned())),
    )
    rebalances.assigned(None, [TopicPartition("t", 0), TopicPartition("t", 2)])
    rebalances.assigned(None, [TopicPartition("t", 1)])
    assert rebalances.owned() == [("t", 0), ("t", 1), ("t", 2)] and rebalances.count == 0
    rebalances.revoked(None, [TopicPartition("t", 2)])
    assert rebalances.owned() == [("t", 0), ("t", 1)] and rebalances.count == 1
    rebalances.lost(None, [TopicPartition("t", 0), TopicPartition("t", 1)])
    assert rebalances.owned() == [] and rebalances.count == 2
    # each reaction ran while the partitions were still owned (a commit may still include them)
    assert events == [("commit", [("t", 0), ("t", 1), ("t", 2)]), ("abort", [("t", 0), ("t", 1)])]


def test_subscribe_hands_the_consumer_the_three_callbacks():
    class Consumer:
        def subscribe(self, topics, **callbacks):
            self.topics, self.callbacks = topics, callbacks

    consumer, rebalances = Consumer(), Rebalances(on_revoke=lambda: None, on_lost=lambda: None)
    rebalances.subscribe(consumer, "frames.raw.v1")
    assert consumer.topics == ["frames.raw.v1"]
    assert consumer.callbacks == {
        "on_assign": rebalances.assigned,
        "on_revoke": rebalances.revoked,
        "on_lost": rebalances.lost,
    }
