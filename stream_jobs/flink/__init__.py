"""PyFlink plumbing shared by FieldStream's Flink jobs: the environment (python.executable,
pipeline.jars, memory, checkpoints), SQL DDL builders, restore points, and the job lifecycle."""
