"""Hand-written JSON schemas of what each operator needs beyond its CRD's own ``required`` lists.

The CRDs (validated first, in deploy_k8s_schemas) accept objects that the operators then cannot act
on: a KafkaTopic without the ``strimzi.io/cluster`` label is ignored, a ScaledObject's kafka trigger
without a consumer group cannot measure lag, a PyTorchJob's container must be named ``pytorch``, the
Flink CRD declares no required field at all. These rules say so, and say what FieldStream insists on
(explicit partitions and replicas, a canary split).
"""

from __future__ import annotations

STRIMZI_CLUSTER_LABEL = {
    "type": "object",
    "required": ["metadata"],
    "properties": {
        "metadata": {
            "required": ["labels"],
            "properties": {"labels": {"required": ["strimzi.io/cluster"]}},
        }
    },
}

RESOURCE = {"type": "object", "required": ["cpu", "memory"]}

CONTAINER = {"type": "object", "required": ["name", "image", "resources"]}

_REPLICA = {
    "type": "object",
    "required": ["replicas", "template"],
    "properties": {
        "template": {
            "required": ["spec"],
            "properties": {
                "spec": {
                    "required": ["containers"],
                    "properties": {
                        "containers": {
                            "minItems": 1,
                            # the training operator finds its container by this name
                            "contains": {"properties": {"name": {"const": "pytorch"}}, "required": ["name"]},
                            "items": CONTAINER,
                        }
                    },
                }
            },
        }
    },
}

OPERATOR_RULES: dict[str, dict] = {
    "Kafka": {
        "required": ["spec"],
        "properties": {
            "spec": {
                "required": ["kafka", "entityOperator"],
                "properties": {
                    "kafka": {
                        "required": ["version", "listeners"],
                        "properties": {"listeners": {"minItems": 1}},
                    },
                    # KafkaTopics are reconciled by the topic operator: it must be deployed
                    "entityOperator": {"required": ["topicOperator"]},
                },
            }
        },
    },
    "KafkaNodePool": {
        "allOf": [
            STRIMZI_CLUSTER_LABEL,
            {
                "properties": {
                    "spec": {
                        "properties": {
                            "roles": {"contains": {"const": "broker"}},
                            "replicas": {"minimum": 1},
                        }
                    }
                }
            },
        ]
    },
    "KafkaTopic": {
        "allOf": [
            STRIMZI_CLUSTER_LABEL,
            {
                "required": ["spec"],
                "properties": {
                    "spec": {
                        "required": ["topicName", "partitions", "replicas", "config"],
                        "properties": {"partitions": {"minimum": 1}, "replicas": {"minimum": 1}},
                    }
                },
            },
        ]
    },
    "FlinkDeployment": {
        "required": ["spec"],
        "properties": {
            "spec": {
                "required": ["image", "flinkVersion", "serviceAccount", "jobManager", "taskManager", "job"],
                "properties": {
                    "jobManager": {"required": ["resource"], "properties": {"resource": RESOURCE}},
                    "taskManager": {"required": ["resource"], "properties": {"resource": RESOURCE}},
                    "job": {
                        "required": ["jarURI", "parallelism", "upgradeMode"],
                        "properties": {"jarURI": {"pattern": "^local://"}},
                    },
                },
            }
        },
    },
    "InferenceService": {
        "required": ["spec"],
        "properties": {
            "spec": {
                "required": ["predictor"],
                "properties": {
                    "predictor": {
                        "required": ["containers", "minReplicas", "maxReplicas", "canaryTrafficPercent"],
                        "properties": {
                            "containers": {
                                "minItems": 1,
                                "maxItems": 1,
                                "items": {
                                    **CONTAINER,
                                    "required": [*CONTAINER["required"], "readinessProbe"],
                                },
                            },
                            "canaryTrafficPercent": {"minimum": 0, "maximum": 100},
                        },
                    }
                },
            }
        },
    },
    "ScaledObject": {
        "required": ["spec"],
        "properties": {
            "spec": {
                "required": ["scaleTargetRef", "minReplicaCount", "maxReplicaCount", "triggers"],
                "properties": {
                    "triggers": {
                        "minItems": 1,
                        "items": {
                            "required": ["type", "metadata"],
                            "if": {"properties": {"type": {"const": "kafka"}}},
                            "then": {
                                "properties": {
                                    "metadata": {
                                        "required": [
                                            "bootstrapServers",
                                            "consumerGroup",
                                            "topic",
                                            "lagThreshold",
                                        ],
                                        "properties": {"lagThreshold": {"pattern": "^[1-9][0-9]*$"}},
                                    }
                                }
                            },
                        },
                    }
                },
            }
        },
    },
    "PyTorchJob": {
        "required": ["spec"],
        "properties": {
            "spec": {
                "required": ["pytorchReplicaSpecs"],
                "properties": {
                    "pytorchReplicaSpecs": {
                        "required": ["Master", "Worker"],
                        "properties": {
                            "Master": {
                                **_REPLICA,
                                "properties": {**_REPLICA["properties"], "replicas": {"const": 1}},
                            },
                            "Worker": {
                                **_REPLICA,
                                "properties": {**_REPLICA["properties"], "replicas": {"minimum": 1}},
                            },
                        },
                    }
                },
            }
        },
    },
}
