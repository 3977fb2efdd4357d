"""`stack down` stops every process it started; `stack up` again finds the earlier data.

Runs on its own stack folder (not the session stack) since it stops and restarts it.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import psutil
import psycopg2
import pytest

from app.stack.local_stack import LocalStack
from fieldstream.kafka.clients import new_consumer, new_producer
from fieldstream.settings import load_settings

pytestmark = pytest.mark.slow


def _group_pids(stack: LocalStack) -> set[int]:
    pids = set()
    for row in stack.status():
        assert row.pid, f"{row.name} not running"
        proc = psutil.Process(row.pid)
        pids |= {proc.pid, *(c.pid for c in proc.children(recursive=True))}
    return pids


def test_down_leaves_nothing_running_and_up_finds_earlier_data(tmp_path_factory):
    stack = LocalStack(tmp_path_factory.mktemp("lifecycle"))
    stack.up(timeout_s=180)
    try:
        settings = load_settings({}, data_dir=stack.data_dir)
        marker = f"restart-{uuid.uuid4().hex[:8]}"
        producer = new_producer(settings)
        producer.produce("labels.v1", key=marker.encode(), value=b"{}")
        assert producer.flush(15) == 0
        with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO labels (target, item_id, device_id, captured_at, source, species)"
                " VALUES ('chunk', %s, 'rec-1', now(), 'annotator', '{a}')",
                (marker,),
            )
        _create_experiment(settings.mlflow_tracking_uri, marker)
        pids = _group_pids(stack)
        assert len(pids) >= 4

        stopped = stack.down()
        assert set(stopped) == {"kafka", "postgres", "redis", "mlflow", "serve"}
        still = [
            p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        assert still == [], f"processes left running: {still}"
        assert all(not row.running for row in stack.status())

        report = stack.up(timeout_s=180)
        assert report.topics_created == [] and report.migrations_applied == []
        settings = load_settings({}, data_dir=stack.data_dir)
        with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM labels WHERE item_id = %s", (marker,))
            assert cur.fetchone()[0] == 1
        assert marker in _experiment_names(settings.mlflow_tracking_uri)
        consumer = new_consumer(settings, f"g-{marker}")
        consumer.subscribe(["labels.v1"])
        found = False
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error() and msg.key() == marker.encode():
                found = True
                break
        consumer.close()
        assert found, "the record produced before the restart is gone"
    finally:
        stack.down()


def _post(uri: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        f"{uri}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _create_experiment(uri: str, name: str) -> None:
    _post(uri, "/api/2.0/mlflow/experiments/create", {"name": name})


def _experiment_names(uri: str) -> set[str]:
    return {
        e["name"]
        for e in _post(uri, "/api/2.0/mlflow/experiments/search", {"max_results": 100})["experiments"]
    }
