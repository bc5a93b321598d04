"""Sensors: briefs dropped in the intake folder or bucket become tasks and runs."""

import hashlib
import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import dagster as dg

from videoagent_dagster.defs.video.jobs import MAKE_VIDEO
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import BriefError
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.budget import BudgetError
from videoagent_dagster.tasks.operations import submit_once, task_run_tags

ACCEPTED, REJECTED = "accepted", "rejected"


def _identity(key: str, body: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\0" + body).hexdigest()


def _move(inbox: MediaStore, key: str, folder: str) -> str:
    target = f"{folder}/{key}"
    inbox.copy(key, target)
    inbox.delete(key)
    return target


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
    return brief.task, {**task_run_tags(brief), "videoagent/intake": key[:200], "videoagent/intake_id": identity[:16]}


@dg.sensor(job_name=MAKE_VIDEO, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Briefs (JSON) dropped in VIDEOAGENT_INTAKE (a folder or s3://bucket/prefix) become "
                       "tasks and runs; invalid ones are moved to rejected/ with an .error.txt beside them.")
def intake_sensor(context: dg.SensorEvaluationContext, media_store: MediaStore,
                  intake_store: MediaStore) -> dg.SensorResult:
    inbox = intake_store
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


