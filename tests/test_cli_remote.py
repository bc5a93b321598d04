"""The remote commands (`videoagent submit | status | list | cancel | retry | download`) as a user
runs them: the console script in a subprocess, against a real dagster-webserver on loopback
(SQLite instance in a temporary DAGSTER_HOME, runs launched by the webserver itself, no daemon).

The webserver starts once for the module; the `controlled` camera (tests/plugins.py) holds shots
while a `hold` file exists and fails the shots named by `fail-shot_NNN` files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from videoagent_dagster.client import ClientError, VideoagentClient
from videoagent_dagster.domain.task_keys import TASK_KEY_PATTERN
from videoagent_dagster.media.probe import probe

from .services import controlled_camera, held, local_services, stop_groups
from .test_deployment import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY = ["--duration", "6", "--resolution", "180p", "--shots", "3"]
TINY_OPTIONS = {"duration": 6, "resolution": "180p", "shots": 3}


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli-remote")
    procs, started = local_services(work, **controlled_camera(work))
    proc, env, logs, url, control = procs[0], started["env"], started["logs"], started["dagster_url"], work / "control"
    client = VideoagentClient(url)

    def ready():
        if proc.poll() is not None:
            raise AssertionError(f"the webserver exited: {(logs / 'webserver.log').read_text()[-3000:]}")
        try:
            client.runs(limit=1)
            return True
        except ClientError:
            return False

    try:
        wait_for(ready, 90, "the webserver", interval=0.3)
        yield {"url": url, "env": env, "client": client, "control": control, "work": work}
    finally:
        stop_groups([proc])


def videoagent(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([str(BIN / "videoagent"), *args, "--url", server["url"]], capture_output=True, text=True,
                         env=server["env"], cwd=server["work"], timeout=60)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def wait_status(server, task: str, wanted: set[str], timeout: float = 60):
    return wait_for(lambda: (st := server["client"].status(task)).status in wanted and st, timeout,
                    f"{task} to be one of {wanted}", interval=0.3)


def test_submit_status_list_and_download(webserver, tmp_path):
    with held(webserver["control"]):
        out = videoagent(webserver, "submit", "Lighthouses of the north", *TINY, "--user", "ana", "--json")
        submitted = json.loads(out.stdout)
        task, run_id = submitted["task"], submitted["run_id"]
        assert TASK_KEY_PATTERN.match(task) and "lighthouses" in task and run_id
        wait_status(webserver, task, {"video_generation"})
        status = videoagent(webserver, "status", task).stdout
        assert f"task: {task}" in status and "status: video_generation" in status and "shot clips" in status
    wait_status(webserver, task, {"completed", "failed"})
    status = json.loads(videoagent(webserver, "status", task, "--json").stdout)
    assert status["status"] == "completed" and status["progress"] == 1.0 and status["run_id"] == run_id
    listed = json.loads(videoagent(webserver, "list", "--json").stdout)
    assert {"task": task, "run_id": run_id, "run_status": "SUCCESS", "user": "ana", "priority": "normal"} in listed
    # Without --json, a table for people: a header, then one aligned line per task.
    table = videoagent(webserver, "list").stdout.splitlines()
    assert table[0].split() == ["TASK", "RUN", "STATUS", "USER", "PRIORITY", "RUN", "ID"]
    mine = next(line for line in table if line.startswith(task))
    assert mine.split() == [task, "SUCCESS", "ana", "normal", run_id]
    assert table[0].index("RUN STATUS") == mine.index("SUCCESS")
    out = videoagent(webserver, "download", task, "--out", str(tmp_path / "v.mp4"))
    assert f"video: {tmp_path / 'v.mp4'}" in out.stdout
    facts = probe(tmp_path / "v.mp4")
    assert abs(facts["duration"] - 6) < 0.1 and facts["video"]["height"] == 180 and facts["video"]["codec"] == "h264"


def test_cancel_a_running_task(webserver):
    with held(webserver["control"]):
        task = json.loads(videoagent(webserver, "submit", "A very long voyage", *TINY, "--json").stdout)["task"]
        running = wait_status(webserver, task, {"video_generation"})
        out = videoagent(webserver, "cancel", task)
        assert f"cancelled_run: {running.run_id}" in out.stdout
        wait_status(webserver, task, {"cancelled"})
    assert "status: cancelled" in videoagent(webserver, "status", task).stdout


def test_retry_re_executes_a_failed_task(webserver):
    control = webserver["control"]
    (control / "fail-shot_002").touch()
    try:
        task = json.loads(videoagent(webserver, "submit", "Bridges of Lisbon", *TINY, "--json").stdout)["task"]
        failed = wait_status(webserver, task, {"failed", "completed"})
        assert failed.status == "failed"
    finally:
        (control / "fail-shot_002").unlink()
    assert "status: failed" in videoagent(webserver, "status", task).stdout
    calls_before = (control / "calls.txt").read_text().split()
    out = videoagent(webserver, "retry", task, "--json")
    retried = json.loads(out.stdout)["run_id"]
    assert retried != failed.run_id
    done = wait_status(webserver, task, {"completed", "failed"})
    assert done.status == "completed" and done.run_id == retried
    assert (control / "calls.txt").read_text().split()[len(calls_before):] == ["shot_002"]  # only what failed
    refused = videoagent(webserver, "retry", task, check=False)
    assert refused.returncode == 1 and f"task {task} has not failed" in refused.stderr


def test_a_task_key_is_never_shared_by_two_briefs(webserver, monkeypatch):
    client = webserver["client"]
    brief = {"topic": "Harbour seals", "options": TINY_OPTIONS}
    # A generated key that is taken already is drawn again: two submissions, two tasks.
    import videoagent_dagster.client as client_module
    keys = iter(["20260101-harbour-seals-0001", "20260101-harbour-seals-0001", "20260101-harbour-seals-0002"])
    monkeypatch.setattr(client_module, "new_task_key", lambda topic: next(keys))
    first_task, first_run = client.submit(brief)
    second_task, second_run = client.submit({"topic": "Harbour porpoises", "options": TINY_OPTIONS})
    assert (first_task, second_task) == ("20260101-harbour-seals-0001", "20260101-harbour-seals-0002")
    assert second_run != first_run
    # A key of the caller's own: the same brief again is the same task and run, not a second run...
    mine = client.submit(brief, task="my-seals")
    again = client.submit({**brief, "style": None}, task="my-seals")
    assert tuple(again) == tuple(mine) and again.existing and not mine.existing
    assert [r["runId"] for r in client.runs("my-seals")] == [mine.run_id]
    # ...another brief under it is refused (from the command line too), and so is a key taken by a
    # task made otherwise (here by a generated key).
    with pytest.raises(ClientError, match="task key my-seals already exists"):
        client.submit({"topic": "Harbour seals", "options": {**TINY_OPTIONS, "duration": 7}}, task="my-seals")
    out = videoagent(webserver, "submit", "Harbour porpoises", *TINY, "--task", first_task, check=False)
    assert out.returncode == 1 and f"task key {first_task} already exists" in out.stderr
    out = videoagent(webserver, "submit", "Harbour seals", *TINY, "--task", "my-seals", "--json")
    assert json.loads(out.stdout) == {"task": "my-seals", "run_id": mine.run_id, "existing": True}
    for task in (first_task, second_task, "my-seals"):
        wait_status(webserver, task, {"completed", "failed"})
    assert [r["runId"] for r in client.runs("my-seals")] == [mine.run_id]


def test_an_unreachable_webserver_is_one_clear_line(webserver):
    dead = f"http://127.0.0.1:{free_port()}"
    for args in (["status", "some-task"], ["submit", "Anything at all"], ["list"], ["cancel", "t"], ["retry", "t"],
                 ["list", "--json"]):
        started = time.monotonic()
        out = subprocess.run([str(BIN / "videoagent"), *args, "--url", dead], capture_output=True, text=True,
                             env=webserver["env"], timeout=60)
        assert out.returncode == 2, (args, out.stdout, out.stderr)  # a usage error, as argparse's
        assert out.stderr.startswith(f"videoagent: cannot reach the webserver at {dead} (Connection refused)"), out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
        assert time.monotonic() - started < 20
    # A name that does not resolve says the same, in one line.
    out = subprocess.run([str(BIN / "videoagent"), "status", "t", "--url", "http://no-such-host.invalid:3000"],
                         capture_output=True, text=True, env=webserver["env"], timeout=60)
    assert out.returncode == 2 and out.stderr.startswith(
        "videoagent: cannot reach the webserver at http://no-such-host.invalid:3000 ("), out.stderr
    assert len(out.stderr.splitlines()) == 1, out.stderr


def launch_from_ui(client, task: str, topic: str) -> str:
    """What the UI does for "Materialize all" of a new partition: add it, then launch the asset
    graph's implicit job (not make_video) for it, the brief in video_brief's launchpad config."""
    from videoagent_dagster.client import ADD_PARTITION, LAUNCH

    repo = client._repository()
    added = client._execute(ADD_PARTITION, {"repositorySelector": repo, "partitionsDefName": "video_tasks",
                                            "partitionKey": task})["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess", added
    launched = client._execute(LAUNCH, {"executionParams": {
        "selector": {**repo, "jobName": "__ASSET_JOB"},
        "runConfigData": {"ops": {"video_brief": {"config": {"topic": topic, **TINY_OPTIONS}}}},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": task},
                                       {"key": "dagster/from_ui", "value": "true"}]},
    }})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def test_a_task_materialised_from_the_ui_is_seen_cancelled_and_retried(webserver):
    """The task's runs are found by its partition, whatever launched them."""
    client, control = webserver["client"], webserver["control"]
    with held(control):
        run_id = launch_from_ui(client, "from-the-ui", "Tide pools at dawn")
        running = wait_status(webserver, "from-the-ui", {"video_generation"})
        assert running.run_id == run_id
        status = json.loads(videoagent(webserver, "status", "from-the-ui", "--json").stdout)
        assert status["run_id"] == run_id and status["status"] == "video_generation"
        listed = json.loads(videoagent(webserver, "list", "--json").stdout)
        assert {"task": "from-the-ui", "run_id": run_id, "run_status": "STARTED", "user": None,
                "priority": None} in listed
        assert f"cancelled_run: {run_id}" in videoagent(webserver, "cancel", "from-the-ui").stdout
        wait_status(webserver, "from-the-ui", {"cancelled"})
    # A failed one is retried from where it failed.
    (control / "fail-shot_002").touch()
    try:
        failed_run = launch_from_ui(client, "failed-in-the-ui", "Kelp forests at noon")
        failed = wait_status(webserver, "failed-in-the-ui", {"failed", "completed"})
        assert failed.status == "failed" and failed.run_id == failed_run
    finally:
        (control / "fail-shot_002").unlink()
    retried = json.loads(videoagent(webserver, "retry", "failed-in-the-ui", "--json").stdout)["run_id"]
    done = wait_status(webserver, "failed-in-the-ui", {"completed", "failed"})
    assert done.status == "completed" and done.run_id == retried != failed_run
