"""Helpers for tests that start real processes and databases."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432"


def start_group(cmd: list[str], *, cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    """Start a process in its own process group (Dagster and Celery start children of their own)."""
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_groups(procs: list[subprocess.Popen], grace_s: float = 30) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database on the machine's server, dropped afterwards; yields its name."""
    db = f"{prefix}_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", PG + "/postgres", "-c", f"create database {db}"], check=True, capture_output=True)
    try:
        yield db
    finally:
        subprocess.run(["psql", PG + "/postgres", "-c", f"drop database if exists {db} with (force)"],
                       capture_output=True)


@contextmanager
def held(control: Path):
    """While inside, the controlled camera (tests/plugins.py) holds every shot, so a run can be
    watched mid-way."""
    (control / "hold").touch()
    try:
        yield
    finally:
        (control / "hold").unlink(missing_ok=True)
