"""Find the installed programs and jars the stack runs (installed by ``make setup``, never here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.stack.errors import MissingDependencyError
from fieldstream.paths import KAFKA_BROKER_LIB

SETUP_HINT = "run `make setup` to install it"


def postgres_bindir() -> Path:
    """The newest PostgreSQL server's bin folder (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    raise MissingDependencyError(f"PostgreSQL server (postgres, initdb) not found: {SETUP_HINT}")


def timescaledb_available(bindir: Path) -> bool:
    """True when the TimescaleDB extension is installed for this PostgreSQL."""
    libdir = bindir.parent / "lib"
    sharedir = Path("/usr/share/postgresql") / bindir.parent.name / "extension"
    return any(libdir.glob("timescaledb*.so")) and (sharedir / "timescaledb.control").exists()


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise MissingDependencyError(f"redis-server not found: {SETUP_HINT}")
    return found


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise MissingDependencyError(f"java (JDK 17+) not found: {SETUP_HINT}")
    return found


def kafka_classpath() -> str:
    jars = sorted(KAFKA_BROKER_LIB.glob("*.jar"))
    if not any(j.name.startswith("kafka_2.13") for j in jars):
        raise MissingDependencyError(f"Apache Kafka jars not found in {KAFKA_BROKER_LIB}: {SETUP_HINT}")
    return ":".join(str(j) for j in jars)
