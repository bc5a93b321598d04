"""A cancelled run, or one stopped for running past its brief's time limit, stops its vendor jobs."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from videoagent_dagster.defs.vendor_jobs.sensor import vendor_jobs_on_cancel, vendor_jobs_on_timeout
from videoagent_dagster.domain.keys import job_key


def running_job(store, vendors, task: str) -> str:
    """A Runway job in flight for `task`, in the job book as the video stage leaves it."""
    job_id = vendors._new_job()
    vendors.jobs[job_id]["never"] = True
    store.write_bytes(job_key("ab" + "c" * 62), json.dumps({"provider": "runway", "model": "gen4_turbo",
                                                             "id": job_id, "task": task}).encode())
    return job_id


def ended(instance, task: str, how: str):
    run = create_run_for_test(instance, job_name="make_video", tags={"dagster/partition": task})
    if how == "cancelled":
        instance.report_run_canceled(run)
    else:
        instance.report_run_failed(run, how)
    record = instance.get_records_for_run(run.run_id, of_type={dg.DagsterEventType.RUN_CANCELED,
                                                                dg.DagsterEventType.RUN_FAILURE}).records[0]
    return instance.get_run_by_id(run.run_id), record.event_log_entry.dagster_event


@pytest.mark.parametrize("how,stops", [("cancelled", True), ("Exceeded maximum runtime of 1620 seconds.", True),
                                       ("step shot_clips failed", False)])
def test_a_cancelled_or_timed_out_run_stops_its_vendor_jobs(store, instance, vendors, monkeypatch, how, stops):
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway:gen4_turbo")
    job_id = running_job(store, vendors, "t-1")
    run, event = ended(instance, "t-1", how)
    context = dg.build_run_status_sensor_context(sensor_name="s", dagster_instance=instance, dagster_run=run,
                                                 dagster_event=event, resources={"media_store": store})
    if how == "cancelled":
        vendor_jobs_on_cancel(context)
    else:
        vendor_jobs_on_timeout(context.for_run_failure())
    assert vendors.count("runway.delete") == (1 if stops else 0)
    assert bool(vendors.jobs[job_id].get("cancelled")) is stops
    assert store.exists(job_key("ab" + "c" * 62)) is not stops  # a plain failure keeps it for a retry to collect


def test_a_runs_time_limit_follows_its_brief(monkeypatch):
    from videoagent_dagster.domain.brief import validate_brief
    from videoagent_dagster.tasks.operations import task_run_tags

    minute = validate_brief({"topic": "x", "options": {"duration": 60}}, "t")
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "offline")
    offline = int(task_run_tags(minute)["dagster/max_runtime"])
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway")
    monkeypatch.setenv("VIDEOAGENT_VIDEO_DEADLINE_S", "900")
    runway = int(task_run_tags(minute)["dagster/max_runtime"])
    assert offline == 900 + 9 * 60 + 3 * 60 and runway == 900 + 9 * 900 + 3 * 60  # 9 shots of a minute
    assert runway > 1800  # more than the flat 30 minutes that stopped long vendor-backed videos
