"""Sensors: briefs dropped in the intake folder or bucket become tasks and runs."""

import hashlib
import json
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import dagster as dg

from .brief import Brief, BriefError
from .budget import BudgetError
from .jobs import make_video
from .partitions import new_task_key, video_tasks
from .resources.media_store import MediaStore
from .tasks import prepare_task, run_tags

DEFAULT_INTAKE = "./intake"
ACCEPTED, REJECTED = "accepted", "rejected"


def intake_from_env() -> MediaStore:
    return MediaStore(root=os.environ.get("VIDEOAGENT_INTAKE") or DEFAULT_INTAKE)


def _identity(key: str, body: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\0" + body).hexdigest()


def _move(inbox: MediaStore, key: str, folder: str) -> str:
    target = f"{folder}/{key}"
    inbox.copy(key, target)
    inbox.delete(key)
    return target


def submit_once(store: MediaStore, identity: str, raw: dict, source: str) -> tuple[Brief, bool]:
    """prepare_task for a brief that may be seen more than once (a re-listed object, a re-read
    manifest row): the same identity always gets the same task key, recorded in `intake-index/`
    before the brief is stored. Returns (brief, whether this identity is new)."""
    index_key = f"intake-index/{identity[:2]}/{identity}.json"
    new = not store.exists(index_key)
    if new:
        topic = raw.get("topic") if isinstance(raw.get("topic"), str) else ""
        task = new_task_key(topic)
        store.write_bytes(index_key, json.dumps({"task": task, "source": source}).encode())
    else:  # taken before: prepare_task finds its brief stored (its budget counted then) or stores it now
        task = json.loads(store.read_bytes(index_key))["task"]
    return prepare_task(raw, store, task), new


def take_brief(inbox: MediaStore, store: MediaStore, key: str) -> tuple[str, dict] | None:
    """Turn one intake object into a task (or move it aside with its error). Returns
    (task, run tags) for a task to run, None for a rejected object.

    Idempotent: the object's identity (its key and bytes) maps to one task, recorded in
    `intake-index/` before anything else is written, so a crash or a daemon restart half-way
    reuses the same task key; the run key derived from it makes Dagster skip a second run. An
    accepted object stays in the inbox until a later tick sees its run (see intake_sensor), so a
    daemon killed before the tick's result is saved loses nothing."""
    body = inbox.read_bytes(key)
    identity = _identity(key, body)
    try:
        raw = json.loads(body)
        if not isinstance(raw, dict):
            raise BriefError([f"brief: expected a JSON object, got {type(raw).__name__}"])
        brief, _ = submit_once(store, identity, raw, source=inbox.uri(key))
    except (ValueError, BriefError, BudgetError) as e:  # JSONDecodeError is a ValueError
        problems = e.problems if isinstance(e, BriefError) else [str(e)]
        when = datetime.now(timezone.utc).isoformat(timespec="seconds")
        inbox.write_bytes(f"{REJECTED}/{key}.error.txt", (
            f"{key} was not accepted ({when}):\n" + "".join(f"- {p}\n" for p in problems)).encode("utf-8"))
        _move(inbox, key, REJECTED)
        return None
    return brief.task, {**run_tags(brief), "videoagent/intake": key[:200], "videoagent/intake_id": identity[:16]}


@dg.sensor(job=make_video, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Briefs (JSON) dropped in VIDEOAGENT_INTAKE (a folder or s3://bucket/prefix) become "
                       "tasks and runs; invalid ones are moved to rejected/ with an .error.txt beside them.")
def intake_sensor(context: dg.SensorEvaluationContext, media_store: MediaStore) -> dg.SensorResult:
    inbox = intake_from_env()
    keys = [k for k in inbox.list() if k.endswith(".json") and not k.startswith((f"{ACCEPTED}/", f"{REJECTED}/"))]
    if not keys:
        return dg.SensorResult(skip_reason=f"no new briefs in {inbox.root}")
    # One user's briefs in order on one thread (their budget is checked one brief at a time);
    # different users in parallel, so a tick gets through a thousand objects in time.
    by_user: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_user[_user_hint(key)].append(key)

    def take_all(user_keys: list[str]) -> list[tuple[str, tuple[str, dict] | None | Exception]]:
        out = []
        for k in user_keys:
            try:
                out.append((k, take_brief(inbox, media_store, k)))
            except Exception as e:  # noqa: BLE001 - one object's trouble (a storage hiccup) must not
                out.append((k, e))  # sink the tick: it stays in the inbox for the next one
        return out

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = [o for batch in pool.map(take_all, by_user.values()) for o in batch]
    accepted = [(k, o) for k, o in outcomes if isinstance(o, tuple)]
    # An accepted object moves to accepted/ once its run exists — on the tick after the one that
    # asked for it; until then each tick asks again (under the same run key: Dagster makes it once).
    ids = [tags["videoagent/intake_id"] for _, (_, tags) in accepted]
    launched = {r.dagster_run.tags.get("videoagent/intake_id") for r in context.instance.get_run_records(
        dg.RunsFilter(tags={"videoagent/intake_id": ids}))} if ids else set()
    for key, (_, tags) in accepted:
        if tags["videoagent/intake_id"] in launched:
            try:
                _move(inbox, key, ACCEPTED)
            except Exception as e:  # noqa: BLE001 - moved at a later tick
                context.log.warning(f"intake: {key} stays in the inbox for now: {e}")
    accepted = [(k, o) for k, o in accepted if o[1]["videoagent/intake_id"] not in launched]
    for key, outcome in outcomes:
        if outcome is None:
            context.log.warning(f"intake: rejected {key} (see {REJECTED}/{key}.error.txt)")
        elif isinstance(outcome, Exception):
            context.log.error(f"intake: {key} left for the next tick: {type(outcome).__name__}: {outcome}")
    if not accepted and all(o is not None and not isinstance(o, Exception) for _, o in outcomes):
        return dg.SensorResult(skip_reason=f"every brief in {inbox.root} has its run")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"intake:{tags['videoagent/intake_id']}", partition_key=task, tags=tags)
                      for _, (task, tags) in accepted],
        dynamic_partitions_requests=[video_tasks.build_add_request([task for _, (task, _) in accepted])]
        if accepted else [],
    )


def _user_hint(key: str) -> str:
    """Group objects by the folder they were dropped in (a user's folder), else all together."""
    return key.split("/", 1)[0] if "/" in key else ""


def _makes_the_video(run: dg.DagsterRun) -> bool:
    """Whether a run was to materialise the task's final video: a whole make_video run, the asset
    graph's "materialize all", a re-execution from failure — not a run of a few upstream assets
    from the UI (its success is not the task's completion)."""
    if run.step_keys_to_execute is not None:
        return "final_video" in run.step_keys_to_execute
    # (an empty asset selection is the whole graph)
    return not run.asset_selection or dg.AssetKey("final_video") in run.asset_selection


def _notify(context, media_store: MediaStore, status: str) -> None:
    from .models import FinalVideo
    from .resources.io_manager import manifest_key
    from .resources.webhooks import WebhookRefused, deliver, timeout_from_env

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
    if status == "completed" and media_store.exists(manifest_key(task, "final_video")):
        final = FinalVideo.model_validate_json(media_store.read_bytes(manifest_key(task, "final_video")))
        payload.update(video_url=final.uri, thumbnail_url=final.thumbnail, metadata={
            "duration": final.duration, "width": final.width, "height": final.height, "fps": final.fps,
            "size_bytes": final.size_bytes, "shots": final.shots, "style": final.style,
            "total_cost_usd": final.total_cost_usd})
    if status == "failed":
        failure = getattr(context, "failure_event", None)
        payload["error"] = (failure.message if failure else None) or "the run failed"
    secret = os.environ.get("VIDEOAGENT_WEBHOOK_SECRET", "")
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
