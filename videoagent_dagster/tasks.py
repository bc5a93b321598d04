"""Operations on video tasks, shared by every front end (CLI now; GraphQL client, sensors and a
REST gateway later): create a task from a brief, find its files."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from .assets.brief import brief_key
from .brief import PRIORITY_TAG, Brief, validate_brief
from .budget import reserve
from .partitions import new_task_key, video_tasks
from .resources.media_store import MediaStore


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


def create_task(raw_brief: dict[str, Any], store: MediaStore, instance: dg.DagsterInstance,
                task: str | None = None) -> Brief:
    """prepare_task, then add the task's partition."""
    brief = prepare_task(raw_brief, store, task)
    instance.add_dynamic_partitions(video_tasks.name, [brief.task])
    return brief


def run_tags(brief: Brief) -> dict[str, str]:
    """Tags for a task's runs: priority (urgent work overtakes queued normal work) and user (for
    the per-user concurrency limit in dagster.yaml)."""
    return {"dagster/priority": PRIORITY_TAG[brief.priority], "videoagent/user": brief.user,
            "videoagent/priority": brief.priority}


def task_exists(task: str, store: MediaStore, instance: dg.DagsterInstance) -> bool:
    return instance.has_dynamic_partition(video_tasks.name, task) and store.exists(brief_key(task))


def run_in_process(instance: dg.DagsterInstance, task: str, tags: dict[str, str] | None = None) -> dg.JobExecutionResult:
    """Make a task's video in this process on `instance` (so the run shows in the UI), with the
    make_video job's own executor (threaded unless VIDEOAGENT_EXECUTOR says otherwise), the
    resources as configured now and Dagster's own console logging kept quiet."""
    from .definitions import (
        make_video_job,  # definitions load sensors, which use this module
    )

    return dg.execute_job(
        dg.reconstructable(make_video_job), instance, tags={**(tags or {}), "dagster/partition": task},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall seconds each step of a run took, from its event log, in the order they finished."""
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=kinds):
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        else:
            seconds[entry.step_key] = entry.timestamp - starts[entry.step_key]
    return seconds
