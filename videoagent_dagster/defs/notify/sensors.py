"""Webhook sensors: a task's brief may name a webhook_url, told when its video is made or failed."""

import json
from datetime import datetime, timezone

import dagster as dg

from videoagent_dagster.defs.notify.delivery import (
    WebhookRefused,
    deliver,
    timeout_from_env,
)
from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.links import openable_links
from videoagent_dagster.tasks.operations import final_video_of


def _makes_the_video(run: dg.DagsterRun) -> bool:
    """Whether a run was to materialise the task's final video: a whole make_video run, the asset
    graph's "materialize all", a re-execution from failure — not a run of a few upstream assets
    from the UI (its success is not the task's completion)."""
    if run.step_keys_to_execute is not None:
        return "final_video" in run.step_keys_to_execute
    # (an empty asset selection is the whole graph)
    return not run.asset_selection or dg.AssetKey("final_video") in run.asset_selection


def _notify(context, media_store: MediaStore, status: str) -> None:
    run = context.dagster_run
    task = run.tags.get("dagster/partition")
    if not task or not _makes_the_video(run) or not media_store.exists(manifest_key(task, "video_brief")):
        return
    brief = json.loads(media_store.read_bytes(manifest_key(task, "video_brief")))
    url = brief.get("webhook_url")
    if not url:
        return
    payload = {"event": f"task.{status}", "task_id": task, "status": status, "run_id": run.run_id,
               "video_url": None, "thumbnail_url": None, "metadata": {},
               "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    final = final_video_of(media_store, task) if status == "completed" else None
    if final is not None:
        metadata = {"duration": final.duration, "width": final.width, "height": final.height, "fps": final.fps,
                    "size_bytes": final.size_bytes, "shots": final.shots, "style": final.style,
                    "total_cost_usd": final.total_cost_usd}
        payload.update(video_url=final.uri, thumbnail_url=final.thumbnail, metadata=metadata)
        # The design's shape: links a receiver can open (the gateway's signed links, else presigned
        # S3 URLs, else — a store on this machine and no gateway — the files' own URIs).
        links = openable_links(current(), media_store, task, final)
        payload["output"] = {"video_url": links["video"], "thumbnail_url": links["thumbnail"],
                             "subtitles_url": links["subtitles.srt"], "metadata": metadata}
    if status == "failed":
        failure = getattr(context, "failure_event", None)
        payload["error"] = (failure.message if failure else None) or "the run failed"
    secret = current().webhook_secret.get_secret_value()
    if not secret:
        context.log.warning("VIDEOAGENT_WEBHOOK_SECRET is not set: webhooks are signed with an empty key")
    try:
        # Bounded (VIDEOAGENT_WEBHOOK_TIMEOUT_S for all attempts): a tick notifies run after run, and
        # a receiver that hangs must not make the tick outlast Dagster's sensor timeout.
        limit = timeout_from_env()
        ok, detail = deliver(url, payload, secret=secret, timeout_s=min(5.0, limit), deadline_s=limit)
    except WebhookRefused as e:
        context.log.warning(f"webhook for {task} not sent: {e}")
        return
    (context.log.info if ok else context.log.warning)(f"webhook for {task} to {url}: {'sent' if ok else 'failed'}, {detail}")


# The webhook sensors watch every job of this code location (no monitored_jobs): make_video, and the
# implicit asset job the UI's asset graph launches a partition's assets with. A run counts when it
# was to make the task's final video (see _makes_the_video).
@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitor_all_code_locations=False,
                      minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING,
                      description="POSTs task.completed to the brief's webhook_url, signed (sha256 HMAC), when a "
                                  "run that makes the final video (make_video or the asset graph) succeeds.")
def webhook_on_success(context: dg.RunStatusSensorContext, media_store: MediaStore):
    _notify(context, media_store, "completed")


@dg.run_failure_sensor(monitor_all_code_locations=False, minimum_interval_seconds=5,
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="POSTs task.failed to the brief's webhook_url, signed (sha256 HMAC), when a run "
                                   "that was to make the final video (make_video or the asset graph) fails.")
def webhook_on_failure(context: dg.RunFailureSensorContext, media_store: MediaStore):
    _notify(context, media_store, "failed")
