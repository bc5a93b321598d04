"""The gateway as it is deployed on a laptop: a real dagster-webserver on loopback (SQLite instance
in a temporary DAGSTER_HOME, runs launched by the webserver itself), and `videoagent serve
--dagster-url` in front of it, both started once for the package. API keys are made with
`videoagent keys create`, as an operator would. The `controlled` camera (tests/plugins.py) holds
shots while a `hold` file exists and fails shots named by `fail-shot_NNN` files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.services import start_group, stop_groups
from tests.test_cli_remote import INSTANCE_YAML
from tests.test_deployment import free_port, wait_for

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
    home, control, logs = work / "dagster_home", work / "control", work / "logs"
    for d in (home, control, logs):
        d.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "VIDEOAGENT_STORAGE": str(work / "storage"),
                "VIDEOAGENT_INTAKE": str(work / "intake"), "VIDEOAGENT_VIDEO": "controlled",
                "VIDEOAGENT_PLUGINS": "tests.plugins", "VIDEOAGENT_TEST_CONTROL": str(control),
                "VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE": "1", "PYTHONPATH": str(ROOT)})
    dagster_port, port = free_port(), free_port()
    procs = [start_group([str(BIN / "dagster-webserver"), "-m", "videoagent_dagster.definitions", "-h", "127.0.0.1",
                          "-p", str(dagster_port)], cwd=work, env=env, log=logs / "webserver.log")]
    dagster_url = f"http://127.0.0.1:{dagster_port}"
    procs.append(start_group([str(BIN / "videoagent"), "serve", "--port", str(port), "--dagster-url", dagster_url],
                             cwd=work, env=env, log=logs / "gateway.log"))
    url = f"http://127.0.0.1:{port}"

    def ready():
        for proc, name in zip(procs, ("webserver", "gateway")):
            if proc.poll() is not None:
                raise AssertionError(f"the {name} exited: {(logs / f'{name}.log').read_text()[-3000:]}")
        try:
            return httpx.get(f"{url}/api/v1/health/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 120, "the gateway and webserver", interval=0.3)
        yield Service(url, env, work, control, dagster_url)
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
