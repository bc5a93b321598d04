"""schemathesis against the gateway's own OpenAPI document: whatever it is sent, no 5xx, and every
answer matches the schema it declares. The gateway fronts a real dagster-webserver whose runs wait
in the queue (no daemon), so generated briefs make real tasks without making videos."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.services import start_group, stop_groups
from tests.test_deployment import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUEUED = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
telemetry:
  enabled: false
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    work = tmp_path_factory.mktemp("openapi")
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(QUEUED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "VIDEOAGENT_STORAGE": str(work / "storage"), "PYTHONPATH": str(ROOT)})
    dagster_port, port = free_port(), free_port()
    procs = [start_group([str(BIN / "dagster-webserver"), "-m", "videoagent_dagster.definitions", "-h", "127.0.0.1",
                          "-p", str(dagster_port)], cwd=work, env=env, log=work / "webserver.log"),
             start_group([str(BIN / "videoagent"), "serve", "--port", str(port), "--dagster-url",
                          f"http://127.0.0.1:{dagster_port}"], cwd=work, env=env, log=work / "gateway.log")]
    url = f"http://127.0.0.1:{port}"

    def ready():
        for proc in procs:
            assert proc.poll() is None, (work / "gateway.log").read_text()[-3000:] + (work / "webserver.log").read_text()[-2000:]
        try:
            return httpx.get(f"{url}/api/v1/health/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 120, "the gateway")
        from videoagent_dagster.api.accounts import Accounts

        key = Accounts(f"sqlite:///{home / 'videoagent.db'}").create_key("fuzz")[1]
        yield {"url": url, "key": key, "work": work}
    finally:
        stop_groups(procs)


def test_the_gateway_keeps_to_its_openapi(gateway):
    """Every operation of the document, 25 generated requests each (schemathesis' strategies run by
    hypothesis here: its pytest plugin does not load on this pytest)."""
    api = schemathesis.openapi.from_url(gateway["url"] + "/openapi.json")
    headers = {"Authorization": f"Bearer {gateway['key']}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/links/{task_id}/{name}"}
    for operation in operations:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(base_url=gateway["url"], headers=headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        call()
