"""Benchmark the local stack: time from stopped to healthy, and idle resident memory.

Prints one JSON object. Targets (issue #2): `stack up` from stopped to healthy under 60 s, idle
stack (Kafka, PostgreSQL, Redis, MLflow) under 3 GB RSS in total. The KServe model server that `stack up`
also starts is reported beside it (``serve_rss_mb``), not counted in that total.

    .venv/bin/python benchmarks/stack.py [--idle-seconds 20] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from app.stack.local_stack import LocalStack

TARGET_UP_S = 60.0
TARGET_RSS_BYTES = 3 * 1024**3
TARGET_RSS_SERVICES = ("kafka", "postgres", "redis", "mlflow")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="idle time before reading RSS")
    parser.add_argument("--data-dir", type=Path, default=None, help="stack folder (default: a temporary one)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fs-bench-stack-"))
    stack = LocalStack(data_dir)
    try:
        first = stack.up(timeout_s=180)  # first start: initdb, storage format, MLflow migrations
        stack.down()
        t0 = time.monotonic()
        stack.up(timeout_s=180)  # the measured one: from stopped to healthy
        warm_up_s = time.monotonic() - t0
        time.sleep(args.idle_seconds)
        rows = stack.status()
    finally:
        stack.down()
    rss = {r.name: r.rss_bytes for r in rows}
    total = sum(v for k, v in rss.items() if k in TARGET_RSS_SERVICES)
    print(
        json.dumps(
            {
                "benchmark": "stack",
                "first_up_s": round(first.seconds, 2),
                "up_from_stopped_s": round(warm_up_s, 2),
                "up_target_s": TARGET_UP_S,
                "up_ratio_to_target": round(warm_up_s / TARGET_UP_S, 3),
                "idle_rss_mb": {k: round(v / 2**20, 1) for k, v in rss.items()},
                "idle_rss_total_mb": round(total / 2**20, 1),
                "serve_rss_mb": round(rss.get("serve", 0) / 2**20, 1),
                "rss_target_mb": TARGET_RSS_BYTES / 2**20,
                "rss_ratio_to_target": round(total / TARGET_RSS_BYTES, 3),
                "postgres_backend": first.postgres_backend,
                "meets_targets": warm_up_s < TARGET_UP_S and total < TARGET_RSS_BYTES,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
