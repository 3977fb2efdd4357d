"""Start, watch and stop the stack's local processes by PID (each in its own process group)."""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import psutil


def free_port(host: str = "127.0.0.1", taken: Iterable[int] = ()) -> int:
    """A TCP port nobody listens on, chosen *below* the kernel's ephemeral range.

    Ports the kernel hands out for port 0 are also the ones outgoing client sockets get, so a port
    picked that way can be taken by some connection before the server binds it.
    """
    low, _high = _ephemeral_range()
    candidates = [p for p in range(20000, max(20001, low)) if p not in set(taken)]
    random.shuffle(candidates)
    for port in candidates[:500]:
        if port_is_free(port, host):
            return port
    raise OSError(f"no free TCP port found on {host} between 20000 and {low}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``port`` now (a port in TIME_WAIT counts as free, as servers
    bind with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start ``argv`` detached in a new session (its PID is its process-group id); output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            **as_user(user),
        )
    return proc.pid


def as_user(user: str | None) -> dict[str, object]:
    """``subprocess`` arguments that drop to ``user`` with that user's own group and no others
    (``user=`` alone keeps root's group, whose permission bits then apply)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def started_at(pid: int) -> float | None:
    """The process's start time (seconds since the epoch): with the PID, what identifies it."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None


def is_running(pid: int | None, started: float | None = None) -> bool:
    """True when ``pid`` runs and, given ``started``, is still the process that started then.

    PIDs are reused: after a wrap-around a PID from an old stack file can belong to anybody else's
    process, which must never be signalled in its place.
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) > 0.05:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_members(pid: int) -> list[psutil.Process]:
    """The process and every descendant (MLflow and PostgreSQL fork workers)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def resident_memory(pid: int) -> int:
    """Resident set size in bytes of the process and its descendants."""
    total = 0
    for proc in group_members(pid):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def stop(pid: int, sig: int = signal.SIGTERM, timeout_s: float = 30.0, started: float | None = None) -> bool:
    """Signal the process group, wait, then SIGKILL whatever is left. True if something was running.

    With ``started``, a PID that now belongs to another process (reused) is left alone.
    """
    if not is_running(pid, started):
        return False
    try:
        if started is None and os.getpgid(pid) != pid:
            return False  # every service is spawned as its group's leader; this PID is someone else's
    except ProcessLookupError:
        return False
    members = group_members(pid)
    if not members:
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        members[0].send_signal(sig)
    _gone, alive = psutil.wait_procs(members, timeout=timeout_s)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=5)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the stack process is our own child (no zombie left behind)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def accepts_connections(port: int, host: str = "127.0.0.1", timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], object], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll ``check()`` until it returns truthy or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return False


def service_user(name: str) -> str | None:
    """Run as ``name`` when we are root and that user exists (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise RuntimeError(f"running as root but there is no {name!r} user to run the service as") from exc
    return name


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def grant_traverse(path: Path) -> list[Path]:
    """Let other users traverse (o+x, not read) each ancestor of ``path`` that we own and that lacks it.

    Needed when root runs PostgreSQL as the ``postgres`` user inside a private folder (e.g. pytest's
    0700 temporary folders). Returns the folders changed.
    """
    changed = []
    for folder in [path, *path.parents]:
        st = folder.stat()
        if st.st_mode & 0o001 or st.st_uid != os.geteuid():
            continue
        folder.chmod(st.st_mode | 0o001)
        changed.append(folder)
    return changed
