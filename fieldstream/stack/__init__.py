"""The local stack: real services (Kafka, PostgreSQL, Redis, MLflow) as local processes."""
