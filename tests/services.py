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


ROOT = Path(__file__).resolve().parents[1]
# Runs start as soon as they are launched (no queue, so no daemon is needed).
RUN_AT_ONCE = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
nux:
  enabled: false
"""
# Runs wait in the queue: with no daemon they never start.
QUEUED = RUN_AT_ONCE.replace("DefaultRunCoordinator", "QueuedRunCoordinator")


def controlled_camera(work: Path) -> dict[str, str]:
    """Settings for the `controlled` camera (tests/plugins.py), steered by files in work/control."""
    (work / "control").mkdir(exist_ok=True)
    return {"VIDEOAGENT_VIDEO": "controlled", "VIDEOAGENT_PLUGINS": "tests.plugins",
            "VIDEOAGENT_TEST_CONTROL": str(work / "control")}


def local_services(work: Path, *, instance_yaml: str = RUN_AT_ONCE, gateway: bool = False,
                   **variables: str) -> tuple[list[subprocess.Popen], dict]:
    """A dagster-webserver on loopback over a SQLite instance in work/dagster_home (and, with
    `gateway`, `videoagent serve --dagster-url` in front of it), started with none of this
    process's VIDEOAGENT_/DAGSTER_ variables but `variables`. Returns the processes and
    {env, home, logs, dagster_url, url (the gateway's)}; nothing waits for them to answer."""
    import sys

    from tests.test_deployment import free_port

    home, logs = work / "dagster_home", work / "logs"
    home.mkdir()
    logs.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "VIDEOAGENT_STORAGE": str(work / "storage"),
                "VIDEOAGENT_INTAKE": str(work / "intake"), "PYTHONPATH": str(ROOT), **variables})
    bin_ = Path(sys.executable).parent
    dagster_port, port = free_port(), free_port()
    procs = [start_group([str(bin_ / "dagster-webserver"), "-m", "videoagent_dagster.definitions", "-h", "127.0.0.1",
                          "-p", str(dagster_port)], cwd=work, env=env, log=logs / "webserver.log")]
    dagster_url = f"http://127.0.0.1:{dagster_port}"
    if gateway:
        procs.append(start_group([str(bin_ / "videoagent"), "serve", "--port", str(port), "--dagster-url", dagster_url],
                                 cwd=work, env=env, log=logs / "gateway.log"))
    return procs, {"env": env, "home": home, "logs": logs, "dagster_url": dagster_url,
                   "url": f"http://127.0.0.1:{port}" if gateway else None}


def gateway_ready(procs: list[subprocess.Popen], started: dict) -> bool:
    """For wait_for: the gateway answers ready (a process that exited fails, with its log's tail)."""
    import httpx

    for proc, name in zip(procs, ("webserver", "gateway")):
        if proc.poll() is not None:
            raise AssertionError(f"the {name} exited: {(started['logs'] / f'{name}.log').read_text()[-3000:]}")
    try:
        return httpx.get(f"{started['url']}/api/v1/health/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
