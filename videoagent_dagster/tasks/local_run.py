"""Run a task's video in this process: for the CLI's `make` and the benchmarks. This module sits
above `definitions` (it loads the code location); the task operations below it do not."""

from __future__ import annotations

from functools import lru_cache

import dagster as dg

from videoagent_dagster.definitions import build_defs
from videoagent_dagster.settings import environment_snapshot


def make_video_job() -> dg.JobDefinition:
    """The make_video job as this code location defines it: what `dg.reconstructable` points at
    when a run is executed here, outside the webserver. Dagster resolves it three times a run;
    the definitions are built once for the settings as they are (as a run worker loads its code
    location once), and again only when the settings change."""
    return _make_video_job(environment_snapshot())


@lru_cache(maxsize=4)
def _make_video_job(settings: tuple[tuple[str, str], ...]) -> dg.JobDefinition:
    return build_defs().resolve_job_def("make_video")


def run_in_process(instance: dg.DagsterInstance, task: str, tags: dict[str, str] | None = None) -> dg.JobExecutionResult:
    """Make a task's video in this process on `instance` (so the run shows in the UI), with the
    make_video job's own executor (threaded unless VIDEOAGENT_EXECUTOR says otherwise), the
    resources as configured now and Dagster's own console logging kept quiet."""
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


