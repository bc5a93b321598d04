"""The webhook sensors: a task's webhook_url hears of its run's end, whatever launched the run."""

import json

import dagster as dg
import pytest


def test_webhooks_on_completion_and_failure(store, instance, monkeypatch, flaky_camera):
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    from videoagent_dagster.defs.notify.delivery import SIGNATURE_HEADER, sign
    from videoagent_dagster.defs.notify.sensors import (
        webhook_on_failure,
        webhook_on_success,
    )
    from videoagent_dagster.tasks.operations import create_task

    from ..video.helpers import materialize

    receiver = HTTPServer(host="127.0.0.1", port=0)
    receiver.start()
    got = []
    receiver.expect_request("/hook").respond_with_handler(lambda r: got.append(r) or Response("ok"))
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_SECRET", "k")
    try:
        for fail in (False, True):
            flaky_camera.FAIL_SHOTS.clear()
            if fail:
                flaky_camera.FAIL_SHOTS.add("shot_001")
            brief = create_task({"topic": f"Hooks {fail}", "webhook_url": receiver.url_for("/hook"),
                                 "options": {"duration": 5, "resolution": "180p", "shots": 1}}, store, instance)
            result = materialize(instance, brief.task)
            assert result.success is not fail
            run = instance.get_run_by_id(result.run_id)
            kinds = {dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE}
            event = instance.all_logs(result.run_id, of_type=kinds)[0].dagster_event
            context = dg.build_run_status_sensor_context(
                sensor_name="s", dagster_event=event, dagster_instance=instance, dagster_run=run,
                resources={"media_store": store})
            if fail:
                webhook_on_failure(context.for_run_failure())
            else:
                webhook_on_success(context)
    finally:
        receiver.clear()
        receiver.stop()
    done, failed = (json.loads(r.get_data()) for r in got)
    assert done["event"] == "task.completed" and done["status"] == "completed"
    assert done["video_url"].endswith(".mp4") and done["thumbnail_url"].endswith("thumbnail.jpg")
    assert done["metadata"]["duration"] == pytest.approx(5, abs=0.1) and "timestamp" in done
    assert failed["event"] == "task.failed" and failed["error"]
    for r in got:
        assert r.headers[SIGNATURE_HEADER] == sign(r.get_data(), "k")


def evaluate(sensor, instance, store, cursor=None):
    """One tick of a run status sensor, as the daemon runs it (its job filter and cursor included);
    returns the new cursor."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"media_store": store}) as context:
        return sensor.evaluate_tick(context).cursor


def test_webhooks_for_runs_launched_from_the_asset_graph(store, instance, monkeypatch, flaky_camera):
    """The UI's asset graph launches a partition's assets as the implicit asset job, not make_video:
    its runs send webhooks too — completed for a run that made the final video, failed for one that
    failed on the way; a run of a few upstream assets alone sends nothing."""
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    from videoagent_dagster.definitions import build_defs
    from videoagent_dagster.defs.notify.sensors import (
        webhook_on_failure,
        webhook_on_success,
    )
    from videoagent_dagster.tasks.operations import create_task

    from ...conftest import TINY

    receiver = HTTPServer(host="127.0.0.1", port=0)
    receiver.start()
    got = []
    receiver.expect_request("/hook").respond_with_handler(lambda r: got.append(json.loads(r.get_data())) or Response("ok"))
    monkeypatch.setenv("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")
    try:
        ok_cursor = evaluate(webhook_on_success, instance, store)  # the first tick only sets the cursor
        fail_cursor = evaluate(webhook_on_failure, instance, store)
        graph = build_defs().resolve_implicit_global_asset_job_def()
        assert graph.name == "__ASSET_JOB"
        done, failed = (create_task({"topic": f"Asset graph {n}", "webhook_url": receiver.url_for("/hook"),
                                     "options": TINY}, store, instance).task for n in ("one", "two"))
        upstream = graph.execute_in_process(instance=instance, partition_key=done, raise_on_error=False,
                                            asset_selection=[dg.AssetKey(k) for k in ("video_brief", "style_profile")])
        assert upstream.success
        ok_cursor = evaluate(webhook_on_success, instance, store, ok_cursor)
        assert got == []  # nothing finished: no task.completed for a run that made no video
        assert graph.execute_in_process(instance=instance, partition_key=done, raise_on_error=False).success
        flaky_camera.FAIL_SHOTS.add("shot_002")
        assert not graph.execute_in_process(instance=instance, partition_key=failed, raise_on_error=False).success
        evaluate(webhook_on_success, instance, store, ok_cursor)
        evaluate(webhook_on_failure, instance, store, fail_cursor)
    finally:
        receiver.clear()
        receiver.stop()
    assert sorted((h["task_id"], h["event"]) for h in got) == sorted([(done, "task.completed"), (failed, "task.failed")])
    completed = next(h for h in got if h["event"] == "task.completed")
    assert completed["video_url"].endswith(f"{done}.mp4")
