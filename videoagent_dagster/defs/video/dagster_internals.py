"""Every private Dagster name the threaded executor (executor.py) rests on, in one place.

Dagster has no threaded executor and no public API for writing one (dagster-io/dagster#4041), so
the executor reuses the in-process executor's pieces. They can change in any Dagster release:
tests/test_dagster_internals.py checks each name and the signature we call it with, so an upgrade
that moves or changes one fails there, loudly, instead of in a run. The pin in pyproject.toml
(dagster==1.13.27) is what these were read from.
"""

# ruff: noqa: F401 - re-exported for executor.py
from dagster import _check as check
from dagster._core.definitions.executor_definition import (
    get_retries_config,
    get_step_dependency_config_field,
)
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import (
    PlanExecutionContext,
    PlanOrchestrationContext,
)
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.execution.plan.execute_plan import (
    _trigger_hook as trigger_hook,
)
from dagster._core.execution.plan.execute_plan import (
    dagster_event_sequence_for_step,
)
from dagster._core.execution.plan.instance_concurrency_context import (
    InstanceConcurrencyContext,
)
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._utils.error import serializable_error_info_from_exc_info

