import hashlib
import hmac
import json
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from videoagent_dagster.resources.webhooks import (
    SIGNATURE_HEADER,
    WebhookRefused,
    check_target,
    deliver,
)


@pytest.fixture
def receiver():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_signed_delivery_with_retries(receiver, monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")
    got = []

    def handler(request):
        got.append(request)
        return Response("down", status=503) if len(got) == 1 else Response("ok")

    receiver.expect_request("/hook", method="POST").respond_with_handler(handler)
    ok, detail = deliver(receiver.url_for("/hook"), {"event": "task.completed", "task_id": "t"}, secret="s3cret",
                         backoff_s=0.05)
    assert ok and "2 attempt" in detail
    body = got[-1].get_data()
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert got[-1].headers[SIGNATURE_HEADER] == expected
    assert json.loads(body)["task_id"] == "t"


def test_a_receiver_that_stays_down_costs_bounded_time(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")
    started = time.monotonic()
    ok, detail = deliver("http://127.0.0.1:9/hook", {"a": 1}, secret="s", attempts=3, timeout_s=0.5, backoff_s=0.05)
    assert not ok and "ConnectError" in detail and time.monotonic() - started < 3


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://localhost/x", "http://10.0.0.5/x",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "ftp://example.com/x"])
def test_private_targets_are_refused_by_default(url, monkeypatch):
    monkeypatch.delenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(WebhookRefused):
        check_target(url)


def test_requests_go_to_the_checked_address():
    from videoagent_dagster.resources.webhooks import _pinned

    url, headers, ext = _pinned("https://hooks.example.com:8443/x?y=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/x?y=1" and headers == {"host": "hooks.example.com:8443"}
    assert ext == {"sni_hostname": "hooks.example.com"}
    assert _pinned("http://example.com/x", None) == ("http://example.com/x", {}, {})
