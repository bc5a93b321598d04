"""Operations on video tasks, shared by every front end (CLI now; GraphQL client, sensors and a
REST gateway later): create a task from a brief, find its files."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

import dagster as dg

from videoagent_dagster.domain.brief import (  # noqa: F401 - run_tags used from here
    Brief,
    Revisions,
    ShotRevision,
    clean_topic,
    run_tags,
    validate_brief,
)
from videoagent_dagster.domain.keys import (
    TASK_PARTITIONS,
    brief_key,
    intake_index_key,
    manifest_key,
    revisions_key,
    screening_refusal_key,
)
from videoagent_dagster.domain.manifests import MAX_CAST_DESCRIPTION, Cast, FinalVideo, Storyboard
from videoagent_dagster.domain.plan_rules import PlanRequest, revise_shots, revision_problems
from videoagent_dagster.domain.screening import ScreeningRefused
from videoagent_dagster.domain.task_keys import new_task_key
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.budget import release, reserve


class TaskExists(ValueError):
    """A task key that is taken by a task with another brief."""


def _stored_brief(store: MediaStore, task: str) -> dict[str, Any] | None:
    return json.loads(store.read_bytes(brief_key(task))) if store.exists(brief_key(task)) else None


def prepare_task(raw_brief: dict[str, Any], store: MediaStore, task: str | None = None) -> Brief:
    """Validate a brief, check it against the budget and store it under briefs/{task}.json.

    Nothing is written when the brief is invalid (BriefError names each problem) or its estimated
    cost would exceed the user's daily budget (BudgetError). A task's brief is created exclusively:
    a key taken by another brief is refused (TaskExists); the same brief again is the same task.
    """
    topic = raw_brief.get("topic") if isinstance(raw_brief, dict) else None
    key = task or new_task_key(topic if isinstance(topic, str) else "")
    brief = validate_brief(raw_brief, key)
    try:
        screen(brief)  # refuses what content screening flags: no task is made, nothing paid
    except ScreeningRefused as e:
        record_refusal(store, e)
        raise
    existing = _stored_brief(store, key)
    if existing is not None:
        if existing != raw_brief:
            raise TaskExists(f"task {key} already exists with another brief ({store.uri(brief_key(key))}); "
                             "submit without a task key to make a new task")
        return brief  # the same task, submitted again: counted against the budget the first time
    reserve(brief, store)  # refuses (writing nothing) when the estimate breaks the user's daily budget
    body = json.dumps(raw_brief, ensure_ascii=False, indent=1).encode("utf-8")
    if not store.create_exclusive(brief_key(key), body) and _stored_brief(store, key) != raw_brief:
        raise TaskExists(f"task {key} was just created with another brief; submit again for a new task")
    return brief


def screen(brief: Brief) -> None:
    """Content screening of a brief's free text: the word lists, then the moderation vendor if one is
    set (VIDEOAGENT_MODERATION). Raises ScreeningRefused (a BriefError naming field and category), or
    ScreeningUnavailable when the vendor cannot answer; nothing is written either way."""
    from videoagent_dagster.domain.screening import refusal, screen_brief, screened_fields
    from videoagent_dagster.providers.moderation import moderate
    from videoagent_dagster.settings import current

    settings = current()
    screen_brief(brief, settings.screening_words)
    if settings.moderation.strip():
        found = moderate(settings.moderation, screened_fields(brief), settings.max_retries, settings.timeout_s)
        if found:
            raise refusal(found, by="moderation")


def record_refusal(store: MediaStore, refused: ScreeningRefused, way: str = "task operations") -> None:
    """Count a refusal for the metrics (the exporter reads today's): its categories and where it came
    in, never the brief's text."""
    import uuid
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    store.write_bytes(screening_refusal_key(now.strftime("%Y%m%d"), uuid.uuid4().hex),
                      json.dumps({"categories": refused.categories, "way": way,
                                  "at": now.isoformat(timespec="seconds")}).encode())


def task_run_tags(brief: Brief) -> dict[str, str]:
    """run_tags with the run's time limit for this brief and the configured video vendor."""
    from videoagent_dagster.domain.plan_rules import max_runtime_s
    from videoagent_dagster.settings import current

    return run_tags(brief, max_runtime_s(brief, current().clip_deadline_s()))


def discard_task(brief: Brief, store: MediaStore) -> None:
    """Undo prepare_task for a task that could not be started: its brief and its budget reservation
    go, so nothing half-made is left behind."""
    release(brief, store)
    store.delete(brief_key(brief.task))


def create_task(raw_brief: dict[str, Any], store: MediaStore, instance: dg.DagsterInstance,
                task: str | None = None) -> Brief:
    """prepare_task, then add the task's partition."""
    brief = prepare_task(raw_brief, store, task)
    instance.add_dynamic_partitions(TASK_PARTITIONS, [brief.task])
    return brief


class RevisionError(ValueError):
    """A revision that cannot be made (no such task, no cast yet, no such member, a bad description,
    a storyboard it would break). `problems`: one line each."""

    def __init__(self, *problems: str):
        self.problems = list(problems)
        super().__init__("; ".join(problems))


def cast_of(store: MediaStore, task: str) -> Cast | None:
    """A task's cast (the cast asset's manifest), or None before it has one."""
    key = manifest_key(task, "cast")
    return Cast.model_validate_json(store.read_bytes(key)) if store.exists(key) else None


def revise_cast(store: MediaStore, task: str, member: str, description: str) -> Revisions:
    """Fix one cast member's description for the task's next run (kept in tasks/{task}/revisions.json).
    The next run paints that member's reference image again and the frames of the shots showing it,
    and films those shots again; every other result comes from the cache. Nothing is written when
    the revision is refused."""
    if not store.exists(brief_key(task)):
        raise RevisionError(f"no task {task!r}")
    cast = cast_of(store, task)
    if cast is None:
        raise RevisionError(f"task {task} has no cast yet: make its video (or its cast) first")
    ids = [m.id for m in cast.members]
    if member not in ids:
        raise RevisionError(f"task {task} has no cast member {member!r}; it has: {', '.join(ids) or 'none'}")
    text = clean_topic(description) if isinstance(description, str) else ""
    if not text or len(text) > MAX_CAST_DESCRIPTION:
        raise RevisionError(f"description: {len(text)} characters; allowed: 1-{MAX_CAST_DESCRIPTION} characters of text")
    now = _revisions(store, task)
    revised = now.model_copy(update={"cast": {**now.cast, member: text}})
    store.write_bytes(revisions_key(task), revised.model_dump_json(indent=1).encode("utf-8"))
    return revised


def _revisions(store: MediaStore, task: str) -> Revisions:
    key = revisions_key(task)
    return Revisions.model_validate_json(store.read_bytes(key)) if store.exists(key) else Revisions()


def revise_shot(store: MediaStore, task: str, number: int, changes: dict[str, Any]) -> Revisions:
    """Change one shot (1 = the first) for the task's next run: its description, narration, camera
    move or duration (the shots' total staying within 10% of the brief's). The next run paints and
    films that shot again and speaks its line again (when they changed), and cuts the video again;
    every other shot comes from the cache. Refused with every problem named (RevisionError), nothing
    written, when the storyboard would break its rules."""
    if not store.exists(brief_key(task)):
        raise RevisionError(f"no task {task!r}")
    key = manifest_key(task, "storyboard")
    if not store.exists(key):
        raise RevisionError(f"task {task} has no storyboard yet: make its video (or its storyboard) first")
    board = Storyboard.model_validate_json(store.read_bytes(key))
    if not isinstance(number, int) or not 1 <= number <= len(board.shots):
        raise RevisionError(f"shot {number}: the storyboard has shots 1-{len(board.shots)}")
    try:
        change = ShotRevision.model_validate(changes)
    except ValidationError as e:
        raise RevisionError(*(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}"
                              for err in e.errors())) from None
    if not change.model_fields_set:
        raise RevisionError(f"nothing to change; allowed: {', '.join(ShotRevision.model_fields)}")
    now = _revisions(store, task)
    earlier = now.shots.get(number, ShotRevision())
    merged = earlier.model_copy(update=change.model_dump(exclude_unset=True))
    revised = now.model_copy(update={"shots": {**now.shots, number: merged}})
    brief = validate_brief(json.loads(store.read_bytes(brief_key(task))), task)
    problems = revision_problems(revise_shots(board.shots, {number: merged}), PlanRequest.of(brief, storyboard=True),
                                 brief.options.duration)
    if problems:
        raise RevisionError(*problems)
    store.write_bytes(revisions_key(task), revised.model_dump_json(indent=1).encode("utf-8"))
    return revised


def final_video_of(store: MediaStore, task: str) -> FinalVideo | None:
    """A task's finished video (the final_video manifest), or None while it has none."""
    key = manifest_key(task, "final_video")
    return FinalVideo.model_validate_json(store.read_bytes(key)) if store.exists(key) else None


def task_exists(task: str, store: MediaStore, instance: dg.DagsterInstance) -> bool:
    return instance.has_dynamic_partition(TASK_PARTITIONS, task) and store.exists(brief_key(task))


def submit_once(store: MediaStore, identity: str, raw: dict, source: str) -> tuple[Brief, bool]:
    """prepare_task for a brief that may be seen more than once (a re-listed object, a re-read
    manifest row): the same identity always gets the same task key, recorded in `intake-index/`
    before the brief is stored. Returns (brief, whether this identity is new)."""
    index_key = intake_index_key(identity)
    new = not store.exists(index_key)
    if new:
        topic = raw.get("topic") if isinstance(raw.get("topic"), str) else ""
        task = new_task_key(topic)
        store.write_bytes(index_key, json.dumps({"task": task, "source": source}).encode())
    else:  # taken before: prepare_task finds its brief stored (its budget counted then) or stores it now
        task = json.loads(store.read_bytes(index_key))["task"]
    return prepare_task(raw, store, task), new


def cancel_vendor_jobs(task: str, store: MediaStore, video_chain: str) -> list[str]:
    """Stop at their vendors the video jobs a task's runs started and have not finished (Runway
    task delete, fal cancel), so a cancelled task bills no further, and forget them, so a retry
    submits anew instead of following a cancelled job. Returns what was done, a line per job."""
    from videoagent_dagster.domain.keys import JOBS_PREFIX
    from videoagent_dagster.providers.chain import parse_chain

    providers = {(p.name, p.model): p for p in parse_chain("video", video_chain)}
    done = []
    for key in store.list(JOBS_PREFIX):
        if not key.endswith(".json"):
            continue
        try:
            job = json.loads(store.read_bytes(key))
        except (ValueError, FileNotFoundError):
            continue  # written or cleared just now
        if job.get("task") != task or job.get("done"):
            continue
        provider = providers.get((job.get("provider"), job.get("model")))
        if provider is None or not hasattr(provider, "cancel"):
            done.append(f"{job.get('provider')} job {str(job.get('id'))[:60]}: not in the configured chain, left alone")
            continue
        try:
            stopped = provider.cancel(job["id"])
        except Exception as e:  # noqa: BLE001 - one vendor's refusal must not stop the others
            done.append(f"{provider.name} job: cancelling failed: {str(e)[:200]}")
            continue
        if stopped:
            store.delete(key)  # a retry submits anew instead of following a cancelled job
            done.append(f"{provider.name} job cancelled")
        else:  # kept: a retry collects what the job makes instead of paying again
            done.append(f"{provider.name} job left to finish (the vendor cannot cancel it, or it is done)")
    return done
