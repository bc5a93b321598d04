"""Jobs: one asset job that makes a whole video for a task."""

import os

import dagster as dg

from .assets import ALL_ASSETS
from .executor import threaded_executor


def executor_from_env() -> dg.ExecutorDefinition:
    """VIDEOAGENT_EXECUTOR: `threaded` (default: one process, each step in a thread as soon as its
    inputs are ready, so narration is spoken while frames and clips are made), `in_process` (one
    process, steps in order), `multiprocess` (a process per step: each loads the definitions again,
    seconds a step), or `celery` (steps on a pool of Celery workers, dagster-celery; broker and
    result backend VIDEOAGENT_CELERY_BROKER, default redis://localhost:6379/0)."""
    name = os.environ.get("VIDEOAGENT_EXECUTOR", "threaded")
    if name == "threaded":
        return threaded_executor
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        from dagster_celery import celery_executor

        broker = os.environ.get("VIDEOAGENT_CELERY_BROKER", "redis://localhost:6379/0")
        return celery_executor.configured({"broker": broker, "backend": broker}, name="celery")
    raise ValueError(f"VIDEOAGENT_EXECUTOR={name!r} is not one of threaded, in_process, multiprocess, celery")


make_video = dg.define_asset_job(
    "make_video",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    executor_def=executor_from_env(),
    description="Make one video: brief → style → script → storyboard → frames → clips + narration → final cut.",
)
