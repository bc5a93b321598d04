"""The deployment, run for real on loopback: PostgreSQL (the machine's), an S3 server (moto), a
code server, the webserver and the daemon, as separate processes with deploy/dagster.yaml.

Work arrives through the S3 intake bucket and over GraphQL; runs queue, launch, fail, are
cancelled and retried; webhooks arrive signed; urgent work overtakes queued normal work."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import boto3
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from videoagent_dagster.client import VideoagentClient
from videoagent_dagster.defs.notify.delivery import SIGNATURE_HEADER, sign

from .services import PG, fresh_database, held, start_group, stop_groups

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_DAGSTER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
TINY = {"duration": 5, "resolution": "180p", "shots": 2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def postgres_ready() -> bool:
    return subprocess.run(["psql", PG + "/postgres", "-tAc", "select 1"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    # One run at a time, so the priority test can watch the queue.
    yield from _deployment(tmp_path_factory.mktemp("deployment"), max_concurrent_runs=1)


@pytest.fixture(scope="module")
def deployment_as_shipped(tmp_path_factory):
    """deploy/dagster.yaml's run limits unchanged: 10 runs at once, 5 per user, pools of 4."""
    yield from _deployment(tmp_path_factory.mktemp("deployment-as-shipped"), max_concurrent_runs=None)


def _deployment(work: Path, max_concurrent_runs: int | None):
    if not shutil.which("psql") or not postgres_ready():
        pytest.fail("PostgreSQL is not answering on 127.0.0.1:5432 (.ci/run starts it)")
    from moto.server import ThreadedMotoServer

    cleanup = ExitStack()
    db = cleanup.enter_context(fresh_database("videoagent_it"))
    s3_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3_server.start()
    s3_host, s3_port = s3_server.get_host_and_port()
    import urllib.request
    # moto keeps its state per process, across servers: start from an empty S3.
    urllib.request.urlopen(urllib.request.Request(f"http://{s3_host}:{s3_port}/moto-api/reset", method="POST"))
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    hooks: list = []
    receiver.expect_request("/hook").respond_with_handler(lambda r: hooks.append(r) or Response("ok"))

    home = work / "dagster_home"
    home.mkdir()
    config = (ROOT / "deploy" / "dagster.yaml").read_text()
    if max_concurrent_runs is not None:
        config = config.replace("max_concurrent_runs: 10", f"max_concurrent_runs: {max_concurrent_runs}")
    (home / "dagster.yaml").write_text(config)
    control = work / "control"
    control.mkdir()
    grpc_port, web_port, gateway_port = free_port(), free_port(), free_port()
    (work / "workspace.yaml").write_text(
        f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
        f"      location_name: videoagent\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": f"{PG_DAGSTER}/{db}",
        "AWS_ENDPOINT_URL": f"http://{s3_host}:{s3_port}", "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        "VIDEOAGENT_STORAGE": "s3://videos/media", "VIDEOAGENT_INTAKE": "s3://videos/intake",
        "VIDEOAGENT_VIDEO": "controlled", "VIDEOAGENT_PLUGINS": "tests.plugins",
        "VIDEOAGENT_TEST_CONTROL": str(control), "VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE": "1",
        "VIDEOAGENT_WEBHOOK_SECRET": "it-secret", "PYTHONPATH": str(ROOT),
        # the gateway: its keys and tasks in the deployment's PostgreSQL, its rate limit in Redis
        "VIDEOAGENT_DATABASE_URL": f"{PG_DAGSTER}/{db}", "VIDEOAGENT_REDIS_URL": "redis://127.0.0.1:6379/15",
    })
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket="videos")
    logs = work / "logs"
    logs.mkdir()
    procs = []

    def start(name: str, *cmd: str) -> None:
        procs.append(start_group(list(cmd), cwd=ROOT, env=env, log=logs / f"{name}.log"))

    start("code-server", str(BIN / "dagster"), "code-server", "start", "-m", "videoagent_dagster.definitions",
          "-h", "127.0.0.1", "-p", str(grpc_port))
    start("webserver", str(BIN / "dagster-webserver"), "-w", str(work / "workspace.yaml"), "-h", "127.0.0.1",
          "-p", str(web_port))
    start("daemon", str(BIN / "dagster-daemon"), "run", "-w", str(work / "workspace.yaml"))
    start("gateway", str(BIN / "videoagent"), "serve", "--host", "127.0.0.1", "--port", str(gateway_port),
          "--dagster-url", f"http://127.0.0.1:{web_port}")
    client = VideoagentClient(f"http://127.0.0.1:{web_port}")
    gateway = f"http://127.0.0.1:{gateway_port}"

    last_error = [None]

    def ready():
        try:
            client.runs(limit=1)
            client._repository()  # noqa: SLF001 - the code location is loaded, not just the webserver up
            return httpx.get(f"{gateway}/api/v1/health/ready", timeout=5).status_code == 200
        except Exception as e:  # noqa: BLE001 - not up yet
            last_error[0] = e
            return False

    try:
        try:
            wait_for(ready, 120, "the webserver and code server")
        except AssertionError:
            raise AssertionError(f"the deployment did not come up: {last_error[0]}") from None
        yield {"client": client, "s3": s3, "control": control, "hooks": hooks, "receiver": receiver, "env": env,
               "logs": logs, "gateway": gateway}
    finally:
        stop_groups(procs)
        receiver.clear()
        receiver.stop()
        s3_server.stop()
        cleanup.close()


def final_object(s3, task: str) -> dict | None:
    try:
        return s3.head_object(Bucket="videos", Key=f"media/tasks/{task}/final/{task}.mp4")
    except s3.exceptions.ClientError:
        return None


def wait_status(client, task, wanted: set[str], timeout=240):
    return wait_for(lambda: (st := client.status(task)).status in wanted and st, timeout, f"{task} to be {wanted}")


def hooks_for(hooks: list, task: str) -> list:
    """The webhook requests received about one task, in arrival order."""
    return [h for h in hooks if json.loads(h.get_data())["task_id"] == task]


def calls(control: Path) -> list[str]:
    path = control / "calls.txt"
    return path.read_text().split() if path.exists() else []


def test_a_brief_in_the_intake_bucket_becomes_a_video_and_a_webhook(deployment):
    s3, hooks, receiver = deployment["s3"], deployment["hooks"], deployment["receiver"]
    brief = {"topic": "Tide pools of the Atlantic coast", "options": TINY, "user": "ana",
             "webhook_url": receiver.url_for("/hook")}
    s3.put_object(Bucket="videos", Key="intake/ana/tide-pools.json", Body=json.dumps(brief).encode())
    index = wait_for(lambda: s3.list_objects_v2(Bucket="videos", Prefix="media/intake-index/").get("Contents"),
                     60, "the intake sensor to take the brief")
    task = json.loads(s3.get_object(Bucket="videos", Key=index[0]["Key"])["Body"].read())["task"]
    head = wait_for(lambda: final_object(s3, task), 240, f"the final video of {task} in S3")
    assert head["ContentLength"] > 5_000
    done = wait_for(lambda: hooks_for(hooks, task), 60, "the webhook")
    body = done[0].get_data()
    assert done[0].headers[SIGNATURE_HEADER] == sign(body, "it-secret")
    payload = json.loads(body)
    assert payload["event"] == "task.completed" and payload["video_url"] == f"s3://videos/media/tasks/{task}/final/{task}.mp4"
    # the design's shape: links the receiver can open (no gateway named here: presigned S3 URLs)
    opened = httpx.get(payload["output"]["video_url"])
    assert opened.status_code == 200 and opened.content[4:8] == b"ftyp"
    assert len(opened.content) == head["ContentLength"] and payload["output"]["metadata"]["duration"] > 0
    # Moved aside by the first tick that sees its run.
    wait_for(lambda: s3.list_objects_v2(Bucket="videos", Prefix="intake/accepted/ana/tide-pools.json").get("Contents"),
             60, "the brief to be moved to accepted/")
    assert not s3.list_objects_v2(Bucket="videos", Prefix="intake/ana/").get("Contents")


def test_the_gateway_on_postgresql_and_s3_hands_out_presigned_links(deployment):
    """The REST gateway as deployed: keys in PostgreSQL (made by `videoagent keys create` with the
    deployment's settings), the rate limit in Redis, the video behind a presigned S3 redirect."""
    made = subprocess.run([str(BIN / "videoagent"), "keys", "create", "dora"], capture_output=True, text=True,
                          env=deployment["env"], cwd=ROOT, timeout=60)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    with httpx.Client(base_url=deployment["gateway"], headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        created = http.post("/api/v1/tasks", json={"topic": "Harbour cranes at night", "options": TINY})
        assert created.status_code == 201, created.text
        task = created.json()["task_id"]
        state = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{task}").json())["status"] in ("completed", "failed")
                         and s, 300, "the gateway's task")
        assert state["status"] == "completed", state
        redirect = http.get(f"/api/v1/tasks/{task}/video")
        assert redirect.status_code == 307 and "Signature=" in redirect.headers["location"]
        video = httpx.get(redirect.headers["location"])
        assert video.status_code == 200 and len(video.content) == final_object(deployment["s3"], task)["ContentLength"]
        meta = http.get(f"/api/v1/tasks/{task}/video/metadata").json()
        assert meta["width"] == 320 and meta["duration"] == pytest.approx(TINY["duration"], abs=0.3)
        signed = httpx.get(state["links"]["video"])  # the gateway's link, then S3's
        assert signed.status_code == 307 and httpx.get(signed.headers["location"]).content == video.content


def test_graphql_submit_and_status_through_every_stage(deployment):
    client, control = deployment["client"], deployment["control"]
    with held(control):
        task, run_id = client.submit({"topic": "Stages of a sunflower's day", "options": TINY})
        status = wait_status(client, task, {"video_generation"}, timeout=180)
        assert status.step.startswith(("shot clips", "narration")) and 0.3 < status.progress < 1
    final = wait_status(client, task, {"completed", "failed"})
    assert final.status == "completed" and final.progress == 1.0 and final.run_id == run_id
    listed = {t["task"]: t for t in client.list()}
    assert listed[task]["run_status"] == "SUCCESS"


def test_cancel_a_long_task(deployment):
    client, control = deployment["client"], deployment["control"]
    with held(control):
        task, _ = client.submit({"topic": "A very long voyage", "options": TINY})
        wait_status(client, task, {"video_generation"}, timeout=180)
        client.cancel(task)
        assert wait_status(client, task, {"cancelled"}, timeout=60).status == "cancelled"


def test_retry_redoes_only_what_failed_and_webhooks_report_the_failure(deployment):
    client, control, s3, hooks, receiver = (deployment[k] for k in ("client", "control", "s3", "hooks", "receiver"))
    (control / "fail-shot_002").touch()
    task, _ = client.submit({"topic": "Bridges of Lisbon", "options": TINY, "webhook_url": receiver.url_for("/hook")})
    failed = wait_status(client, task, {"failed", "completed"})
    assert failed.status == "failed"
    before = calls(control)
    (control / "fail-shot_002").unlink()
    client.retry(task)
    wait_for(lambda: final_object(s3, task), 240, "the retried video")
    assert calls(control)[len(before):] == ["shot_002"]  # only the failed shot is generated again
    both = wait_for(lambda: len(hooks_for(hooks, task)) >= 2 and hooks_for(hooks, task), 60, "both webhooks")
    # Each run's outcome told once, about that run (two sensors: their ticks may deliver in either order).
    told = {json.loads(h.get_data())["event"]: json.loads(h.get_data())["run_id"] for h in both}
    assert set(told) == {"task.failed", "task.completed"} and told["task.failed"] != told["task.completed"]
    assert told["task.failed"] == failed.run_id


def test_urgent_work_overtakes_queued_normal_work(deployment):
    client, control = deployment["client"], deployment["control"]
    with held(control):
        first, _ = client.submit({"topic": "Queue head", "options": TINY})
        wait_status(client, first, {"video_generation"}, timeout=180)
        normal = [client.submit({"topic": f"Normal work {i}", "options": TINY})[0] for i in range(2)]
        urgent, _ = client.submit({"topic": "Urgent work", "options": TINY, "priority": "urgent"})
        time.sleep(2)
    for task in [first, *normal, urgent]:
        wait_status(client, task, {"completed", "failed"})

    def started(task):
        return client.runs(task, limit=1)[0]["startTime"]

    assert started(urgent) < min(started(t) for t in normal)


def test_a_user_has_at_most_five_videos_in_progress_and_a_pool_bounds_its_stage(deployment_as_shipped):
    """deploy/dagster.yaml as shipped, under real concurrency: ana's sixth video waits in the queue
    while five of hers run (ben's starts beside them: the limit is per user), and of the six runs
    held in shot_clips at most 4 run that step at once (the `video` pool)."""
    client, control = deployment_as_shipped["client"], deployment_as_shipped["control"]
    with held(control):
        ana = [client.submit({"topic": f"Ana's harbour film {i}", "options": TINY, "user": "ana"})[0]
               for i in range(6)]
        ben = client.submit({"topic": "Ben's harbour film", "options": TINY, "user": "ben"})[0]

        def run_states():
            return {t: client.runs(t, limit=1)[0]["status"] for t in [*ana, ben]}

        def filming():
            return [t for t in [*ana, ben] if "shot clips" in client.status(t).step]

        wait_for(lambda: sum(run_states()[t] == "STARTED" for t in ana) == 5 and run_states()[ben] == "STARTED",
                 300, "five of ana's runs and ben's to start")
        wait_for(lambda: len(filming()) == 4, 240, "four runs to reach shot_clips")
        time.sleep(5)  # the queue and the pool each had time to let one more through, if they would
        states = run_states()
        assert sorted(states[t] for t in ana) == ["QUEUED"] + ["STARTED"] * 5, states
        assert len(filming()) == 4  # the other two started runs wait for a `video` pool slot
    for task in [*ana, ben]:
        assert wait_status(client, task, {"completed", "failed"}, timeout=400).status == "completed"


def test_compose_runs_what_this_test_runs_and_publishes_only_the_gateway():
    """docker-compose.yml cannot run here (no Docker engine): hold it to the processes and settings
    this module starts, and to the gateway being its one public port."""
    import yaml

    from videoagent_dagster.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert published == {"gateway": ["8000:8000"]}
    commands = {name: s.get("command", "") for name, s in services.items()}
    assert commands["gateway"].startswith("videoagent serve ") and "--dagster-url http://webserver:3000" in commands["gateway"]
    assert commands["code"].startswith("dagster code-server start -m videoagent_dagster.definitions")
    assert commands["webserver"].startswith("dagster-webserver -w") and commands["daemon"].startswith("dagster-daemon run")
    known = {Settings.variable(f) for f in Settings.model_fields}
    for variable in compose["x-environment"]:
        assert not variable.startswith("VIDEOAGENT_") or variable in known, variable
    assert "redis" in services["gateway"]["depends_on"] and "profiles" not in services["redis"]
