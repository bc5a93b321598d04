"""Running the real graph on a test instance."""

from __future__ import annotations

import dagster as dg

from videoagent_dagster.defs.resources import build_resources
from videoagent_dagster.defs.video import ALL_ASSETS
from videoagent_dagster.tasks.operations import create_task


def submit(store, instance, topic: str, **options) -> str:
    return create_task({"topic": topic, "options": options}, store, instance).task


def materialize(instance, task: str, selection=None, run_config=None) -> dg.ExecuteInProcessResult:
    """Materialise the graph (or `selection`) for one task, with resources read from the environment
    as the code location reads them."""
    return dg.materialize(
        ALL_ASSETS, instance=instance, partition_key=task, resources=build_resources(), selection=selection,
        raise_on_error=False, run_config=run_config,
    )


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {f"{e.asset_key.to_user_string()}.{e.check_name}": e.passed
            for e in result.get_asset_check_evaluations()}
