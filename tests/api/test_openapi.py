"""schemathesis against the gateway's own OpenAPI document: whatever it is sent, no 5xx, and every
answer matches the schema it declares. The gateway fronts a real dagster-webserver whose runs wait
in the queue (no daemon), so generated briefs make real tasks without making videos."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.services import QUEUED, gateway_ready, local_services, stop_groups
from tests.test_deployment import wait_for


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    work = tmp_path_factory.mktemp("openapi")
    procs, started = local_services(work, instance_yaml=QUEUED, gateway=True)
    try:
        wait_for(lambda: gateway_ready(procs, started), 120, "the gateway")
        from videoagent_dagster.api.accounts import Accounts

        key = Accounts(f"sqlite:///{started['home'] / 'videoagent.db'}").create_key("fuzz")[1]
        yield {"url": started["url"], "key": key, "work": work}
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
