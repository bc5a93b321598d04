"""The intake sensor: briefs in a folder or bucket become tasks and runs, once each."""

import json

import dagster as dg
import pytest

from videoagent_dagster.defs.intake.sensor import intake_sensor
from videoagent_dagster.defs.resources import build_resources
from videoagent_dagster.storage.media_store import MediaStore


def tick(instance, store):
    intake = build_resources()["intake_store"]  # where VIDEOAGENT_INTAKE points, as the code location reads it
    with dg.build_sensor_context(instance=instance, resources={"media_store": store, "intake_store": intake}) as context:
        return intake_sensor(context)


def apply(instance, result):
    """What the daemon does with a tick's result: add the partitions and create the runs."""
    from dagster._core.test_utils import create_run_for_test

    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for request in result.run_requests:
        create_run_for_test(instance, job_name="make_video", tags={**request.tags, "dagster/run_key": request.run_key,
                                                                   "dagster/partition": request.partition_key})


@pytest.fixture
def inbox(workdir, monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_INTAKE", str(workdir / "intake"))
    return MediaStore(root=str(workdir / "intake"))


def test_valid_brief_becomes_a_task_and_a_run_invalid_one_is_moved_aside(store, instance, inbox):
    inbox.write_bytes("ana/lighthouses.json", json.dumps({
        "topic": "Lighthouses of the north", "options": {"duration": 20, "resolution": "480p"},
        "user": "ana", "priority": "urgent", "webhook_url": "http://127.0.0.1:9/hook"}).encode())
    inbox.write_bytes("bad.json", b'{"topic": "", "options": {"duration": 9000}}')
    inbox.write_bytes("broken.json", b'{"topic": ')
    result = tick(instance, store)
    assert len(result.run_requests) == 1
    run = result.run_requests[0]
    assert run.tags["dagster/priority"] == "2" and run.tags["videoagent/user"] == "ana"
    assert result.dynamic_partitions_requests[0].partition_keys == [run.partition_key]
    brief = json.loads(store.read_bytes(f"briefs/{run.partition_key}.json"))
    assert brief["topic"] == "Lighthouses of the north"
    # The accepted brief stays in the inbox until its run exists (a tick whose result is lost loses nothing).
    assert inbox.list() == ["ana/lighthouses.json", "rejected/bad.json", "rejected/bad.json.error.txt",
                            "rejected/broken.json", "rejected/broken.json.error.txt"]
    error = inbox.read_bytes("rejected/bad.json.error.txt").decode()
    assert "topic: is blank" in error and "options.duration: 9000" in error
    assert "Expecting value" in inbox.read_bytes("rejected/broken.json.error.txt").decode()
    apply(instance, result)  # the daemon saves the tick: the run exists
    second = tick(instance, store)
    assert not second.run_requests and second.skip_reason.skip_message.startswith("every brief")
    assert inbox.list()[0] == "accepted/ana/lighthouses.json"
    assert tick(instance, store).skip_reason.skip_message.startswith("no new briefs")


def test_a_tick_whose_result_was_lost_is_asked_again(store, instance, inbox, monkeypatch):
    """The daemon died after a tick ran but before its result (the run request) was saved: the brief
    is still in the inbox, so the next tick asks for the same run again — once the budget is full it
    still does (its budget was counted when it was taken)."""
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway:gen4_turbo")
    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "3")  # one 30 s Runway video ($1.75 of clips), not two
    inbox.write_bytes("ana/a.json", json.dumps({"topic": "Harbours", "user": "ana", "options": {"duration": 30}}).encode())
    lost = tick(instance, store)  # never applied
    inbox.write_bytes("ana/b.json", json.dumps({"topic": "Bridges", "user": "ana", "options": {"duration": 30}}).encode())
    again = tick(instance, store)
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in lost.run_requests]  # b: over budget
    assert inbox.list() == ["ana/a.json", "rejected/ana/b.json", "rejected/ana/b.json.error.txt"]
    apply(instance, again)
    assert not tick(instance, store).run_requests
    assert inbox.list()[0] == "accepted/ana/a.json"


def test_the_same_object_never_makes_two_tasks(store, instance, inbox):
    body = json.dumps({"topic": "Tide pools", "options": {"duration": 10}}).encode()
    inbox.write_bytes("tide.json", body)
    first = tick(instance, store)
    # As if the daemon died before moving the object: it is there again at the next tick.
    inbox.write_bytes("tide.json", body)
    second = tick(instance, store)
    assert first.run_requests[0].partition_key == second.run_requests[0].partition_key
    assert first.run_requests[0].run_key == second.run_requests[0].run_key  # Dagster skips a duplicate run key
    assert len(store.list("briefs")) == 1


def test_a_thousand_briefs_in_one_tick(store, instance, inbox):
    for i in range(1000):
        inbox.write_bytes(f"u{i % 7}/b{i:04d}.json", json.dumps({"topic": f"Topic number {i}"}).encode())
    import time
    started = time.monotonic()
    result = tick(instance, store)
    assert len(result.run_requests) == 1000 and time.monotonic() - started < 60
    assert len({r.partition_key for r in result.run_requests}) == 1000


def test_intake_on_s3(s3, store, instance, monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEOAGENT_INTAKE", "s3://videos/intake")
    s3.put_object(Bucket="videos", Key="intake/new.json", Body=json.dumps({"topic": "Coral reefs"}).encode())
    result = tick(instance, store)
    assert len(result.run_requests) == 1
    apply(instance, result)
    tick(instance, store)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="videos", Prefix="intake/")["Contents"]]
    assert keys == ["intake/accepted/new.json"]


def test_one_objects_storage_error_does_not_sink_the_tick(store, instance, inbox, monkeypatch):
    import videoagent_dagster.defs.intake.sensor as sensors

    inbox.write_bytes("good.json", json.dumps({"topic": "Good one"}).encode())
    inbox.write_bytes("flaky.json", json.dumps({"topic": "Flaky one"}).encode())
    real = sensors.take_brief

    def take(inbox_, store_, key):
        if key == "flaky.json":
            raise OSError("storage hiccup")
        return real(inbox_, store_, key)

    monkeypatch.setattr(sensors, "take_brief", take)
    result = tick(instance, store)
    assert len(result.run_requests) == 1
    assert "flaky.json" in inbox.list()  # left for the next tick


