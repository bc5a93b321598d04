"""A run cancelled (from the UI, the CLI or the API) or stopped by run monitoring for running past
its time limit (`dagster/max_runtime`, set per brief) leaves its video jobs running at the vendor,
billing on: this sensor stops them (Runway task delete, fal cancel) and forgets them, as
`videoagent cancel` does. A run that failed otherwise keeps them: a retry collects what they make."""

import dagster as dg

from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.operations import cancel_vendor_jobs

TIMED_OUT = "maximum runtime"  # what run monitoring says when it stops a run past its limit


def _stop(context, media_store: MediaStore, why: str) -> None:
    task = context.dagster_run.tags.get("dagster/partition")
    if not task:
        return
    done = cancel_vendor_jobs(task, media_store, current().video)
    if done:
        context.log.info(f"{task} ({why}): " + "; ".join(done))


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.CANCELED, monitor_all_code_locations=False,
                      minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Stops at their vendors the video jobs of a run that was cancelled, so they "
                                  "bill no further.")
def vendor_jobs_on_cancel(context: dg.RunStatusSensorContext, media_store: MediaStore):
    _stop(context, media_store, "cancelled")


@dg.run_failure_sensor(monitor_all_code_locations=False, minimum_interval_seconds=5,
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Stops at their vendors the video jobs of a run stopped for running past its "
                                   "time limit (dagster/max_runtime, set from its brief).")
def vendor_jobs_on_timeout(context: dg.RunFailureSensorContext, media_store: MediaStore):
    message = context.failure_event.message or ""
    if TIMED_OUT in message:
        _stop(context, media_store, "ran out of time")
