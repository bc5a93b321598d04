"""The make_video job (one asset job that makes a whole video for a task) and the executor every
run of this code location uses, chosen by VIDEOAGENT_EXECUTOR when the definitions load."""

import dagster as dg

from videoagent_dagster.defs.video import ALL_ASSETS
from videoagent_dagster.defs.video.brief import VideoBriefConfig
from videoagent_dagster.defs.video.executor import threaded_executor
from videoagent_dagster.settings import Settings, current

MAKE_VIDEO = "make_video"


def executor_for(settings: Settings) -> dg.ExecutorDefinition:
    """`threaded` (default: one process, each step in a thread as soon as its inputs are ready, so
    narration is spoken while frames and clips are made), `in_process` (one process, steps in
    order), `multiprocess` (a process per step: each loads the definitions again, seconds a step),
    or `celery` (steps on a pool of Celery workers, dagster-celery; broker and result backend
    VIDEOAGENT_CELERY_BROKER)."""
    if settings.executor == "threaded":
        return threaded_executor
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "multiprocess":
        return dg.multiprocess_executor
    from dagster_celery import celery_executor

    broker = settings.celery_broker
    return celery_executor.configured({"broker": broker, "backend": broker}, name="celery")


def make_video_job(executor: dg.ExecutorDefinition):
    return dg.define_asset_job(
        MAKE_VIDEO,
        selection=dg.AssetSelection.assets(*ALL_ASSETS),
        executor_def=executor,
        # The launchpad opens with video_brief's fields (all empty: use the stored brief), so a user
        # sees that a new task needs a topic instead of an empty editor that says nothing is missing.
        config={"ops": {"video_brief": {"config": {name: None for name in VideoBriefConfig.model_fields}}}},
        description="Make one video: brief → style → script → storyboard → frames → clips + narration → final cut.",
    )


@dg.definitions
def video_graph() -> dg.Definitions:
    # The executor is also the code location's: what the UI materialises outside make_video (a
    # partition's assets from the asset graph, one failed asset) must not be a process per step.
    executor = executor_for(current())
    return dg.Definitions(assets=ALL_ASSETS, jobs=[make_video_job(executor)], executor=executor)
