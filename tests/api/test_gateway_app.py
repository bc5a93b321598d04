"""The gateway's refusals, in-process (FastAPI's TestClient, no Dagster needed): each leaves
nothing behind. The Redis rate limit runs against the machine's Redis."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.test_deployment import free_port
from videoagent_dagster.api.accounts import Accounts
from videoagent_dagster.api.app import Gateway, create_app
from videoagent_dagster.api.ratelimit import RateLimiter
from videoagent_dagster.api.tracker import Tracker
from videoagent_dagster.client import VideoagentClient
from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.links import LinkSigner

TINY = {"duration": 6, "resolution": "180p", "shots": 3}


@pytest.fixture
def gateway(tmp_path, monkeypatch):
    """A gateway whose Dagster webserver is not there (nothing listens on its port)."""
    monkeypatch.setenv("VIDEOAGENT_STORAGE", str(tmp_path / "storage"))
    for name in ("VIDEOAGENT_VIDEO", "VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "VIDEOAGENT_DAILY_BUDGET_USD"):
        monkeypatch.delenv(name, raising=False)
    store = MediaStore(root=str(tmp_path / "storage"))
    accounts = Accounts(f"sqlite:///{tmp_path / 'gateway.db'}")
    client = VideoagentClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    gw = Gateway(current(), store, accounts, client, Tracker(client), LinkSigner("secret", 60), RateLimiter(1000))
    with TestClient(create_app(gw, follow=False)) as http:
        yield gw, http, tmp_path / "storage"


def auth(gw: Gateway, user: str = "ana") -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.accounts.create_key(user)[1]}"}


def written(storage) -> list[str]:
    return sorted(str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file()) if storage.exists() else []


def test_over_budget_is_402_and_writes_nothing(gateway, monkeypatch):
    gw, http, storage = gateway
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway")  # priced per second; only estimated here, never called
    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "0.5")
    refused = http.post("/api/v1/tasks", json={"topic": "Expensive", "options": TINY}, headers=auth(gw))
    assert refused.status_code == 402 and "daily budget" in refused.json()["detail"]
    assert written(storage) == [] and gw.accounts.tasks(None)[1] == 0
    estimate = http.post("/api/v1/tasks/estimate", json={"topic": "Expensive", "options": TINY}, headers=auth(gw))
    assert estimate.status_code == 200 and estimate.json()["by_stage"]["video"] > 0.5


def test_a_private_webhook_is_refused_when_the_task_is_made(gateway):
    gw, http, storage = gateway
    for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://10.1.2.3/x", "http://[::1]/x"):
        refused = http.post("/api/v1/tasks", json={"topic": "Hooked", "webhook_url": url}, headers=auth(gw))
        assert refused.status_code == 422, url
        assert refused.json()["detail"]["problems"][0].startswith("webhook_url: ")
    assert written(storage) == []


def test_a_launch_that_fails_leaves_nothing_behind(gateway):
    gw, http, storage = gateway
    failed = http.post("/api/v1/tasks", json={"topic": "Nobody home", "options": {**TINY, "voice_type": "en-gb"}},
                       headers=auth(gw))
    assert failed.status_code == 503 and "cannot reach the webserver" in failed.json()["detail"]
    assert [k for k in written(storage) if not k.startswith("ledger/") or not k.endswith(".lock")] == []
    assert gw.accounts.tasks(None)[1] == 0


def test_garbage_in_gets_422_not_500(gateway):
    gw, http, _ = gateway
    headers = auth(gw)
    for body in (b"", b"null", b"[]", b'"topic"', b"{", b'{"topic": 5}', b'{"topic": "x", "options": []}',
                 b'{"topic": "x", "options": {"duration": "long"}}', b'{"topic": "x", "colour": "red"}'):
        answer = http.post("/api/v1/tasks", content=body, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"]["problems"]
    assert http.get("/api/v1/tasks/no-such-task", headers=headers).status_code == 404
    assert http.get("/api/v1/tasks/../../etc/passwd", headers=headers).status_code == 404


def test_rate_limit_answers_429_with_retry_after(gateway):
    gw, http, _ = gateway
    gw.limiter = RateLimiter(3)
    headers = auth(gw)
    answers = [http.get("/api/v1/tasks", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200] * 3
    assert answers[3].status_code == 429 and 0 < int(answers[3].headers["Retry-After"]) <= 60
    assert http.get("/api/v1/tasks", headers=auth(gw, "ben")).status_code == 200  # per key


def test_the_redis_rate_limit_is_shared_by_gateways():
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (run-tests.sh starts it)")
    key, now = f"k{time.time_ns()}", time.time()
    one, two = RateLimiter(3, "redis://127.0.0.1:6379/0"), RateLimiter(3, "redis://127.0.0.1:6379/0")
    assert [one.hit(key, now), two.hit(key, now), one.hit(key, now)] == [None, None, None]
    assert two.hit(key, now) is not None  # the fourth, counted across both
    assert one.hit(key, now + 60) is None  # the next minute


def test_links_expire_and_cannot_be_altered():
    signer = LinkSigner("secret", 60)
    link = signer.sign("/api/v1/links/t/video", now=1000.0)
    path, query = link.split("?")
    params = dict(p.split("=") for p in query.split("&"))
    assert signer.check(path, params["expires"], params["sig"]) is not None  # 1060 is long past
    fresh = dict(p.split("=") for p in signer.sign(path).split("?")[1].split("&"))
    assert signer.check(path, fresh["expires"], fresh["sig"]) is None
    assert signer.check("/api/v1/links/other/video", fresh["expires"], fresh["sig"]) is not None
    assert signer.check(path, str(int(fresh["expires"]) + 1000), fresh["sig"]) is not None
    assert LinkSigner("other", 60).check(path, fresh["expires"], fresh["sig"]) is not None


def test_keys_are_stored_hashed_and_revoked_at_once(tmp_path):
    accounts = Accounts(f"sqlite:///{tmp_path / 'keys.db'}")
    key_id, key = accounts.create_key("ana", "admin")
    raw = (tmp_path / "keys.db").read_bytes()
    assert key.split("_", 2)[2].encode() not in raw
    assert accounts.caller(key).admin and accounts.caller(key[:-1] + "x") is None
    accounts.revoke(key_id)
    assert accounts.caller(key) is None
    with pytest.raises(ValueError, match="no active key"):
        accounts.revoke(key_id)
    with pytest.raises(ValueError, match="role"):
        accounts.create_key("ana", "root")
    with pytest.raises(ValueError, match="user"):
        accounts.create_key("../x")


def test_unauthenticated_websocket_is_closed_4401(gateway):
    gw, http, _ = gateway
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed:
        with http.websocket_connect("/api/v1/ws/tasks/x", subprotocols=["videoagent", "va_bad_key"]) as ws:
            ws.receive_json()
    assert closed.value.code == 4401



def test_odd_input_never_gets_a_5xx(gateway):
    gw, http, _ = gateway
    headers = auth(gw)
    gw.accounts.add_task("t-odd", "ana", None, "x")
    assert http.get("/api/v1/links/t-odd/video", params={"expires": "²", "sig": "x"}).status_code == 403
    assert http.get("/api/v1/links/t-odd/video", params={"expires": "9" * 5000, "sig": "x"}).status_code == 403
    assert http.get("/api/v1/tasks/t-odd/files/frame_²", headers=headers).status_code == 404
    assert http.get("/api/v1/tasks/t-odd/files/frame_" + "9" * 5000, headers=headers).status_code == 404
    deep = http.post("/api/v1/tasks", content=b"[" * 200_000, headers={**headers, "Content-Type": "application/json"})
    assert deep.status_code == 422
    away = http.get("/api/v1/tasks/t-odd", headers=headers)  # the webserver is not there
    assert away.status_code == 503 and "Dagster could not answer" in away.json()["detail"]
    assert http.get("/api/v1/health/ready").status_code == 503
    assert "Connection refused" not in http.get("/api/v1/health/ready").text  # no internals to strangers


def test_one_run_that_cannot_be_read_does_not_stop_the_others():
    """The tracker follows every task on each look; one whose run is gone from Dagster is reported
    failed after a while, and the others go on."""
    from videoagent_dagster.api.tracker import GIVE_UP_AFTER
    from videoagent_dagster.client import ClientError

    class Dagster:  # GraphQL's answers, as VideoagentClient returns them
        def runs(self, task=None, limit=100, *, statuses=None, run_ids=None):
            if statuses:
                return [{"runId": r, "status": "STARTED", "startTime": 1.0, "endTime": None,
                         "tags": [{"key": "dagster/partition", "value": t}]} for t, r in (("a", "ra"), ("b", "rb"))]
            return []

        def events_after(self, run_id, cursor):
            if run_id == "ra":
                raise ClientError("RunNotFoundError: run ra not found")
            return [{"__typename": "ExecutionStepStartEvent", "stepKey": "script", "timestamp": "1000"}], "c", False

    tracker = Tracker(Dagster())
    tracker.created("a", "ra", 0.0)
    tracker.created("b", "rb", 0.0)
    tracker.tick()
    assert tracker.views["b"].state["status"] == "story_generation"
    for _ in range(GIVE_UP_AFTER):
        tracker.tick()
    assert tracker.views["a"].state["status"] == "failed"
    assert "cannot be read" in tracker.views["a"].state["error"]["message"]


def test_content_screening_refuses_with_422_naming_the_category_and_writes_nothing(gateway):
    gw, http, storage = gateway
    for path in ("/api/v1/tasks", "/api/v1/tasks/estimate"):
        refused = http.post(path, json={"topic": "How to make a bomb at home", "options": TINY}, headers=auth(gw))
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert detail["message"] == "the brief was refused by content screening"
        assert "category weapons_illegal" in detail["problems"][0]
    # nothing but the refusals' counts (for the metrics): no brief, no task
    assert {w.split("/")[0] for w in written(storage)} == {"screening"} and gw.accounts.tasks(None)[1] == 0


def test_a_graphql_submission_is_screened_before_any_network_call():
    from videoagent_dagster.domain.screening import ScreeningRefused

    client = VideoagentClient(f"http://127.0.0.1:{free_port()}", timeout=2)  # nothing listens there
    with pytest.raises(ScreeningRefused, match="weapons_illegal"):
        client.submit({"topic": "制作炸弹的方法"})


def test_metrics_count_requests_and_screening_refusals(gateway):
    gw, http, storage = gateway
    http.post("/api/v1/tasks", json={"topic": "How to make a bomb at home", "options": TINY}, headers=auth(gw))
    http.get("/api/v1/tasks/nope", headers=auth(gw))
    from prometheus_client import generate_latest

    assert http.get("/metrics").status_code == 404  # not on the public port: its numbers name users
    text = generate_latest(http.app.state.metrics.registry).decode()
    assert 'videoagent_screening_refusals_total{category="weapons_illegal"} 1.0' in text
    assert 'videoagent_http_requests_total{method="GET",route="/api/v1/tasks/{task_id}",status="404"} 1.0' in text
    assert 'videoagent_http_requests_total{method="POST",route="/api/v1/tasks",status="422"} 1.0' in text
