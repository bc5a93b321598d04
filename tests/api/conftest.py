"""The gateway as it is deployed on a laptop: a real dagster-webserver on loopback (SQLite instance
in a temporary DAGSTER_HOME, runs launched by the webserver itself), and `videoagent serve
--dagster-url` in front of it, both started once for the package. API keys are made with
`videoagent keys create`, as an operator would. The `controlled` camera (tests/plugins.py) holds
shots while a `hold` file exists and fails shots named by `fail-shot_NNN` files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.services import controlled_camera, gateway_ready, local_services, stop_groups
from tests.test_deployment import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY = {"duration": 6, "resolution": "180p", "shots": 3}


class Service:
    def __init__(self, url: str, env: dict, work: Path, control: Path, dagster_url: str):
        self.url, self.env, self.work, self.control, self.dagster_url = url, env, work, control, dagster_url
        self.storage = work / "storage"

    def videoagent(self, *args: str) -> subprocess.CompletedProcess:
        out = subprocess.run([str(BIN / "videoagent"), *args], capture_output=True, text=True, env=self.env,
                             cwd=self.work, timeout=60)
        assert out.returncode == 0, out.stderr
        return out

    def new_key(self, user: str, role: str = "user") -> str:
        return self.videoagent("keys", "create", user, "--role", role).stdout.strip().splitlines()[-1]

    def http(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="package")
def service(tmp_path_factory):
    work = tmp_path_factory.mktemp("gateway")
    procs, started = local_services(work, gateway=True, VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE="1", **controlled_camera(work))
    try:
        wait_for(lambda: gateway_ready(procs, started), 120, "the gateway and webserver", interval=0.3)
        yield Service(started["url"], started["env"], work, work / "control", started["dagster_url"])
    finally:
        stop_groups(procs)


@pytest.fixture(scope="package")
def ana(service) -> str:
    return service.new_key("ana")


@pytest.fixture(scope="package")
def finished(service, ana) -> dict:
    """One task made through the API and finished, shared by the tests that read its files."""
    with service.http(ana) as http:
        created = http.post("/api/v1/tasks", json={"topic": "Lighthouses of the north", "options": TINY})
        assert created.status_code == 201, created.text
        task = created.json()["task_id"]
        state = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{task}").json())["status"]
                         in ("completed", "failed") and s, 180, "the task to finish", interval=0.5)
    assert state["status"] == "completed", state
    return {"created": created.json(), "state": state}
