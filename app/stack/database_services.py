"""The local stack's stores: a private PostgreSQL cluster (TimescaleDB when installed) and Redis."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import psycopg2
import redis

from app.stack import binaries
from app.stack.errors import StackError
from app.stack.process import as_user, chown_tree, grant_traverse, service_user
from app.stack.service import HOST, Service, ServiceContext

DB_USER = "fieldstream"
DB_NAME = "fieldstream"
MLFLOW_DB = "mlflow"


class PostgresService(Service):
    """A private PostgreSQL cluster (initdb), TimescaleDB preloaded when the extension is installed."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back open transactions, no waiting for clients

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.bindir = binaries.postgres_bindir()
        self.timescaledb = binaries.timescaledb_available(self.bindir)

    @property
    def pgdata(self) -> Path:
        return self.home / "data"

    def user(self) -> str | None:
        return service_user("postgres")

    def prepare(self) -> None:
        super().prepare()
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self.user()
        if user:
            chown_tree(self.home, user)
            grant_traverse(self.home.parent)
        result = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                DB_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            **as_user(user),  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip()[-2000:]}")

    def argv(self) -> list[str]:
        args = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "shared_buffers=128MB",
            "-c",
            "max_connections=100",
            "-c",
            "fsync=on",
        ]
        if self.timescaledb:
            args += ["-c", "shared_preload_libraries=timescaledb", "-c", "timescaledb.telemetry_level=off"]
        return args

    def dsn(self, database: str = DB_NAME) -> str:
        return f"postgresql://{DB_USER}@{HOST}:{self.port}/{database}"

    def healthy(self) -> bool:
        try:
            with psycopg2.connect(self.dsn("postgres"), connect_timeout=2) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone() == (1,)
        except Exception:
            return False

    def ensure_databases(self) -> None:
        conn = psycopg2.connect(self.dsn("postgres"), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for db in (DB_NAME, MLFLOW_DB):
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                    if cur.fetchone() is None:
                        cur.execute(f'CREATE DATABASE "{db}"')
        finally:
            conn.close()
        if self.timescaledb:
            with psycopg2.connect(self.dsn(), connect_timeout=5) as conn, conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")

    def settings(self) -> dict[str, str]:
        return {"postgres_dsn": self.dsn()}


class RedisService(Service):
    """Redis with an append-only file in its folder, so a restart keeps the online store."""

    name = "redis"

    def argv(self) -> list[str]:
        return [
            binaries.redis_server(),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--dir",
            str(self.home),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--maxmemory",
            "512mb",
            "--maxmemory-policy",
            "volatile-lru",
        ]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def healthy(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=2).ping())
        except Exception:
            return False

    def settings(self) -> dict[str, str]:
        return {"redis_url": self.url}
