"""Build and run the feature job: ``fieldstream features run`` calls :func:`run_feature_job`.

Local runs use a PyFlink MiniCluster inside this process tree (the PyFlink gateway JVM plus one Python
worker per UDF); on Kubernetes the same module is the job's entry point (``python -m
stream_jobs.features.job``, started by Flink's PythonDriver) and the cluster's configuration wins.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from prometheus_client import CollectorRegistry

from feature_store.features import FEATURE_SET_VERSION
from fieldstream.health import HealthServer
from fieldstream.logs import configure_logging
from fieldstream.settings import Settings, load_settings
from stream_jobs.features.config import FeatureJobConfig
from stream_jobs.features.kinds import KINDS
from stream_jobs.features.pipeline import (
    deadletter_ddl,
    pipeline_ddl,
    pipeline_inserts,
    pipeline_spec,
    pipeline_views,
)
from stream_jobs.features.udfs import UdfConfig, feature_udf
from stream_jobs.flink.environment import FlinkOptions, create_table_environment
from stream_jobs.flink.lifecycle import JobRunner, JobState, job_metrics
from stream_jobs.flink.restore import latest_restore_point, prune_restore_points

log = logging.getLogger("fieldstream.features.job")


def flink_options(config: FeatureJobConfig, settings: Settings) -> FlinkOptions:
    state_dir = config.state_dir(settings.data_dir)
    options = FlinkOptions(
        job_name=config.job_name,
        state_dir=state_dir,
        parallelism=config.parallelism,
        checkpoint_interval_s=config.checkpoint_interval_s,
        idle_timeout_s=config.idle_timeout_s,
        managed_memory_mb=config.managed_memory_mb,
        jvm_heap_mb=config.jvm_heap_mb,
        arrow_batch_size=config.arrow_batch_size,
        bundle_time_ms=config.bundle_time_ms,
        metrics_port=config.metrics_port,
    )
    if config.fresh:
        return options
    point = latest_restore_point(options.checkpoint_dir, options.savepoint_dir)
    if point is None:
        log.info(
            "no restore point: starting from the consumer group's offsets", extra={"group": config.group_id}
        )
        return options
    log.info("resuming from a restore point", extra={"kind": point.kind, "path": str(point.path)})
    prune_restore_points(options.checkpoint_dir, options.savepoint_dir, keep=point)
    return FlinkOptions(**{**options.__dict__, "restore_from": point.path})


def build_statement_set(t_env: Any, config: FeatureJobConfig, settings: Settings) -> Any:
    """Register tables, UDFs and views; return the statement set holding every INSERT."""
    t_env.execute_sql(deadletter_ddl(config, settings))
    statements = t_env.create_statement_set()
    for kind in config.kinds:
        spec = pipeline_spec(kind, config)
        for ddl in pipeline_ddl(spec, config, settings):
            t_env.execute_sql(ddl)
        udf_config = UdfConfig(
            kind=kind,
            topic=spec.raw_topic,
            redis_url=settings.redis_url,
            redis_ttl_s=config.redis_ttl_s,
            archive_url=config.archive(settings.data_dir),
            feature_set=FEATURE_SET_VERSION,
            max_payload=settings.max_payload_bytes,
            max_future_s=config.max_future_s,
            archive_fsync=config.archive_fsync,
        )
        t_env.create_temporary_function(spec.udf_name, feature_udf(udf_config))
        for name, select in pipeline_views(spec):
            t_env.create_temporary_view(name, t_env.sql_query(select))
        for insert in pipeline_inserts(spec, FEATURE_SET_VERSION):
            statements.add_insert_sql(insert)
    return statements


def submit_to_cluster(config: FeatureJobConfig, settings: Settings) -> int:
    """On a cluster (PythonDriver in application mode): submit and return. Checkpoints, savepoints,
    upgrades and restarts belong to the cluster's configuration and the Flink Kubernetes Operator."""
    options = FlinkOptions(
        job_name=config.job_name,
        state_dir=config.state_dir(settings.data_dir),
        parallelism=config.parallelism,
        idle_timeout_s=config.idle_timeout_s,
        arrow_batch_size=config.arrow_batch_size,
        bundle_time_ms=config.bundle_time_ms,
        cluster=True,
    )
    t_env = create_table_environment(options)
    result = build_statement_set(t_env, config, settings).execute()
    log.info(
        "feature job submitted",
        extra={"job": config.job_name, "job_id": str(result.get_job_client().get_job_id())},
    )
    return 0


def run_feature_job(config: FeatureJobConfig, settings: Settings) -> int:
    """Start the job and block until it stops (SIGTERM/SIGINT: savepoint, then exit 0)."""
    options = flink_options(config, settings)
    log.info(
        "feature job starting",
        extra={
            "job": config.job_name,
            "kinds": list(config.kinds),
            "parallelism": config.parallelism,
            "state_dir": str(options.state_dir),
            "restore_from": str(options.restore_from) if options.restore_from else None,
        },
    )
    state = JobState()
    runner = JobRunner(options.savepoint_dir, state)
    runner.install_signal_handlers()
    health = None
    if config.health_port is not None:
        registry = CollectorRegistry()
        job_metrics(registry, state, config.job_name)
        health = HealthServer(config.health_port, registry, lambda: state.live, lambda: state.ready).start()
    try:
        t_env = create_table_environment(options)
        statements = build_statement_set(t_env, config, settings)
        return runner.run(statements.execute())
    finally:
        if health is not None:
            health.stop()


def cluster_arg_parser() -> argparse.ArgumentParser:
    """The arguments the FlinkDeployment passes after ``-pym stream_jobs.features.job``."""
    parser = argparse.ArgumentParser(prog="stream_jobs.features.job", description=__doc__)
    parser.add_argument("--kinds", nargs="+", choices=tuple(KINDS), default=list(KINDS))
    parser.add_argument("--job-name", default="fieldstream-features")
    parser.add_argument("--group-id", default="fieldstream-features")
    parser.add_argument(
        "--parallelism", type=int, default=1, help="keep equal to the deployment's job.parallelism"
    )
    parser.add_argument(
        "--archive", default=None, help="media archive folder or URL (default <data_dir>/media)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point for Flink's PythonDriver on a cluster: ``-pym stream_jobs.features.job [--kinds ...]``
    (``--parallelism`` equal to the FlinkDeployment's ``job.parallelism``)."""
    parser = cluster_arg_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    config = FeatureJobConfig(
        job_name=args.job_name,
        group_id=args.group_id,
        kinds=tuple(args.kinds),
        archive_url=args.archive,
        parallelism=args.parallelism,
    )
    return submit_to_cluster(config, settings)


if __name__ == "__main__":
    sys.exit(main())
