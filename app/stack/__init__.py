"""The local stack: real services (Kafka, PostgreSQL, Redis, MLflow, the KServe model server) as local
processes, started and stopped by :class:`app.stack.local_stack.LocalStack`."""
