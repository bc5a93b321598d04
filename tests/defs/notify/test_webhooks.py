import hashlib
import hmac
import json
import socket
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from videoagent_dagster.defs.notify.delivery import (
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
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "ftp://example.com/x",
                                 # shared address space: not private, not public (a cloud metadata service)
                                 "http://100.100.100.200/latest/meta-data",
                                 # IPv6 forms of 127.0.0.1 and 10.0.0.1 (6to4, NAT64, mapped)
                                 "http://[2002:7f00:1::1]/x", "http://[64:ff9b::a00:1]/x", "http://[::ffff:127.0.0.1]/x",
                                 "http://198.18.0.1/x", "http://203.0.113.5/x", "http://[ff02::1]/x"])
def test_private_targets_are_refused_by_default(url, monkeypatch):
    monkeypatch.delenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(WebhookRefused):
        check_target(url)


def test_requests_go_to_the_checked_address():
    from videoagent_dagster.defs.notify.delivery import _pinned

    url, headers, ext = _pinned("https://hooks.example.com:8443/x?y=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/x?y=1" and headers == {"host": "hooks.example.com:8443"}
    assert ext == {"sni_hostname": "hooks.example.com"}
    assert _pinned("http://example.com/x", None) == ("http://example.com/x", {}, {})


# -- delivery with the address check on, to a receiver in network namespaces of our own ---------------
#
# Two namespaces joined by a veth pair: the sender (the code under test, in a thread that enters the
# sender namespace) and the receiver (a process started with `ip netns exec`). Nothing is added to the
# machine's own network namespace, so no traffic can leave the two namespaces whatever the addresses.
# The receiver's public address is from 192.88.99.0/24, globally routable by IANA's registry but
# retired (the 6to4 relay anycast, RFC 7526), so it is nobody's server; it also listens on a private
# address, to show refusals come from the check, not from an unreachable host.

import ctypes  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

PUBLIC, PRIVATE, PORT = "192.88.99.2", "10.213.0.2", 8080
CLONE_NEWNET = 0x40000000


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Namespaces:
    def __init__(self, sender: str, log: Path):
        self.sender, self.log = sender, log

    def url(self, path: str, host: str = PUBLIC) -> str:
        return f"http://{host}:{PORT}{path}"

    def requests(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def run(self, fn, timeout: float):
        """fn() on a thread inside the sender namespace; returns (finished in time, seconds, result).
        A thread that did not finish is left behind (a daemon thread)."""
        out: dict = {}

        def target():
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{self.sender}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:  # this thread only
                    out["error"] = OSError(ctypes.get_errno(), "setns")
                    return
            finally:
                os.close(fd)
            try:
                out["result"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller
                out["error"] = e

        thread = threading.Thread(target=target, daemon=True)
        started = time.monotonic()
        thread.start()
        thread.join(timeout)
        seconds = time.monotonic() - started
        if "error" in out:
            raise out["error"]
        return not thread.is_alive(), seconds, out.get("result")


@pytest.fixture(scope="module")
def netns(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (ip netns add)")
    if not shutil.which("ip"):
        pytest.skip("the ip command (iproute2) is not installed")
    tag = uuid.uuid4().hex[:6]
    sender, receiver = f"va-snd-{tag}", f"va-rcv-{tag}"
    try:
        _ip("netns", "add", sender)
    except subprocess.CalledProcessError as e:
        pytest.skip(f"cannot create a network namespace here: {e.stderr.strip()}")
    work = tmp_path_factory.mktemp("netns")
    proc = None
    try:
        _ip("netns", "add", receiver)
        _ip("link", "add", f"vas{tag}", "netns", sender, "type", "veth", "peer", "name", f"var{tag}", "netns", receiver)
        for ns, dev, last in ((sender, f"vas{tag}", 1), (receiver, f"var{tag}", 2)):
            _ip("-n", ns, "addr", "add", f"192.88.99.{last}/24", "dev", dev)
            _ip("-n", ns, "addr", "add", f"10.213.0.{last}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        log, ready = work / "requests.jsonl", work / "ready"
        proc = subprocess.Popen(["ip", "netns", "exec", receiver, sys.executable,
                                 str(Path(__file__).with_name("webhook_receiver.py")), str(PORT), str(log), str(ready)],
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=(work / "receiver.err").open("w"))
        deadline = time.monotonic() + 20
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the receiver did not start: {(work / 'receiver.err').read_text()}")
            time.sleep(0.05)
        yield Namespaces(sender, log)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for ns in (sender, receiver):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # takes the veth pair with it


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.delenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", raising=False)


def _fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """Resolve the named hosts to the given addresses in turn (the last one from then on)."""
    real = socket.getaddrinfo
    calls: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        n = calls[host] = calls.get(host, 0) + 1
        address = answers[host][min(n, len(answers[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_delivery_to_a_public_address_with_the_check_on(netns, check_on):
    url = netns.url("/ok")
    assert check_target(url) == PUBLIC
    before = len(netns.requests())
    finished, _, (ok, detail) = netns.run(lambda: deliver(url, {"event": "task.completed", "task_id": "pub"},
                                                          secret="k"), timeout=20)
    assert finished and ok, detail
    got = netns.requests()[before:]
    assert len(got) == 1 and got[0]["local"] == PUBLIC and json.loads(got[0]["body"])["task_id"] == "pub"
    assert got[0]["headers"][SIGNATURE_HEADER.lower()] == "sha256=" + hmac.new(
        b"k", got[0]["body"].encode(), hashlib.sha256).hexdigest()


def test_the_checked_dns_answer_is_the_address_connected_to(netns, check_on, monkeypatch):
    """DNS rebinding: the first answer (checked, public) is where the request goes; a later answer
    pointing at a private address is never asked for."""
    _fake_dns(monkeypatch, {"hooks.example.test": [PUBLIC, PRIVATE]})
    before = len(netns.requests())
    finished, _, (ok, detail) = netns.run(
        lambda: deliver(f"http://hooks.example.test:{PORT}/ok", {"task_id": "dns"}, secret="k"), timeout=20)
    assert finished and ok, detail
    (got,) = netns.requests()[before:]
    assert got["local"] == PUBLIC and got["headers"]["host"] == f"hooks.example.test:{PORT}"


def test_non_public_targets_are_refused_though_reachable(netns, check_on, monkeypatch):
    _fake_dns(monkeypatch, {"internal.example.test": [PRIVATE], "loop.example.test": ["127.0.0.1"]})
    before = len(netns.requests())
    for url in (netns.url("/ok", PRIVATE), f"http://internal.example.test:{PORT}/ok",
                f"http://loop.example.test:{PORT}/ok", f"http://localhost:{PORT}/ok", f"http://127.0.0.1:{PORT}/ok"):
        with pytest.raises(WebhookRefused, match="public address"):
            netns.run(lambda url=url: deliver(url, {"task_id": "private"}, secret="k"), timeout=20)
    assert netns.requests()[before:] == []
    # The private address does answer: allowed explicitly, the same request is delivered there.
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")
    finished, _, (ok, detail) = netns.run(lambda: deliver(netns.url("/ok", PRIVATE), {"task_id": "private"},
                                                          secret="k"), timeout=20)
    assert finished and ok, detail
    assert [r["local"] for r in netns.requests()[before:]] == [PRIVATE]


@pytest.mark.parametrize("path", ["/hang", "/trickle"])
def test_a_receiver_that_hangs_is_given_up_after_the_timeout(netns, check_on, path):
    """One that never answers, and one that answers a byte every 0.2 s (each read within the
    timeout, the whole never ending): both are given up after attempts x timeout + backoff."""
    finished, seconds, result = netns.run(
        lambda: deliver(netns.url(path), {"task_id": "slow"}, secret="k", attempts=2, timeout_s=0.5, backoff_s=0.1),
        timeout=10)
    assert finished, f"deliver to {path} was still running after {seconds:.0f} s"
    ok, detail = result
    assert not ok and "Timeout" in detail and seconds < 2.5, (seconds, detail)


def test_the_sensor_is_not_held_by_receivers_that_hang(netns, check_on, monkeypatch, tmp_path):
    """A tick notifies one run after another: each notification ends within
    VIDEOAGENT_WEBHOOK_TIMEOUT_S, so the tick ends, its cursor moves past the runs, and the next tick
    does not try them again."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.test_utils import create_run_for_test

    from videoagent_dagster.defs.notify.sensors import webhook_on_success
    from videoagent_dagster.domain.keys import manifest_key
    from videoagent_dagster.storage.media_store import MediaStore

    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_TIMEOUT_S", "1")
    store = MediaStore(root=str(tmp_path / "storage"))
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        def tick(cursor=None):
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"media_store": store}) as ctx:
                return webhook_on_success.evaluate_tick(ctx).cursor

        cursor = tick()
        for n, path in enumerate(("/hang", "/trickle", "/ok")):
            task = f"20260101-hang-{n}"
            store.write_bytes(manifest_key(task, "video_brief"), json.dumps(
                {"task": task, "webhook_url": netns.url(f"{path}?{task}")}).encode())
            run = create_run_for_test(instance, job_name="make_video", tags={"dagster/partition": task})
            instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name="make_video"),
                                          run_id=run.run_id)
        before = len(netns.requests())
        finished, seconds, cursor = netns.run(lambda: tick(cursor), timeout=30)
        assert finished, f"the tick was still running after {seconds:.0f} s"
        assert seconds < 8, seconds  # two receivers given up after ~1 s each, one answered
        got = netns.requests()[before:]
        assert sorted(r["path"].split("?")[1] for r in got) == [f"20260101-hang-{n}" for n in range(3)]
        assert netns.run(lambda: tick(cursor), timeout=30)[0]
        assert len(netns.requests()) == before + 3  # the next tick starts after them
