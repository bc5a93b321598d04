"""The private Dagster names the threaded executor uses, and how it calls them: a Dagster upgrade
that moves or changes one fails here, naming it (see defs/video/dagster_internals.py)."""

import inspect

import pytest

from videoagent_dagster.defs.video import dagster_internals as internals

# name → parameters our calls pass (by keyword, or by position for the leading ones)
CALLS = {
    "PlanExecutionContextManager": ["job", "retry_mode", "execution_plan", "run_config", "dagster_run", "instance",
                                    "raise_on_error", "output_capture", "step_dependency_config"],
    "ExecuteRunWithPlanIterable": ["execution_plan", "iterator", "execution_context_manager"],
    "InstanceConcurrencyContext": ["instance", "dagster_run"],
    "dagster_event_sequence_for_step": ["step_context"],
    "trigger_hook": ["step_context", "step_output_handles"],
    "create_compute_log_file_key": [],
    "get_retries_config": [],
    "get_step_dependency_config_field": [],
    "serializable_error_info_from_exc_info": ["exc_info"],
}
BY_KEYWORD = {"PlanExecutionContextManager", "ExecuteRunWithPlanIterable"}
METHODS = {
    ("ExecutionPlan", "start"): ["retry_mode", "instance_concurrency_context", "step_dependency_config"],
    ("DagsterEvent", "engine_event"): ["step_context", "message", "event_specific_data"],
    ("DagsterEvent", "capture_logs"): ["job_context", "step_keys", "log_key", "captured_log_context"],
    ("EngineEventData", "in_process"): ["pid", "step_keys"],
    ("StepDependencyConfig", "default"): [],
}
# What the executor calls on the objects these give it.
ATTRIBUTES = {
    "PlanExecutionContext": ["for_step", "retry_mode", "step_dependency_config", "run_id", "dagster_run", "instance"],
    "PlanOrchestrationContext": ["execution_plan", "job", "retry_mode", "run_config", "dagster_run", "instance",
                                 "raise_on_error", "output_capture"],
}


def _parameters(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_function_takes_what_we_pass(name):
    fn = getattr(internals, name)
    params = _parameters(fn.__init__ if inspect.isclass(fn) else fn)
    if name in BY_KEYWORD:  # called with keywords: each must be a parameter
        missing = set(CALLS[name]) - set(params)
        assert not missing, f"{name}: no parameter(s) {sorted(missing)} in {params}"
    else:  # called by position: it must take that many
        assert len(params) >= len(CALLS[name]), f"{name}{params}: we pass {CALLS[name]}"


@pytest.mark.parametrize("owner,method", sorted(METHODS))
def test_each_method_takes_what_we_pass(owner, method):
    params = _parameters(getattr(getattr(internals, owner), method))
    assert len(params) >= len(METHODS[(owner, method)]), f"{owner}.{method}{params}"
    keywords = {"retry_mode", "instance_concurrency_context", "step_dependency_config", "event_specific_data"}
    for wanted in set(METHODS[(owner, method)]) & keywords:
        assert wanted in params, f"{owner}.{method}: no parameter {wanted!r} in {params}"


@pytest.mark.parametrize("owner", sorted(ATTRIBUTES))
def test_the_contexts_have_what_we_use(owner):
    cls = getattr(internals, owner)
    for attr in ATTRIBUTES[owner]:
        assert hasattr(cls, attr), f"{owner}.{attr} is gone"


def test_retry_modes_and_checks_are_there():
    assert {"ENABLED", "DISABLED", "DEFERRED"} <= {m.name for m in internals.RetryMode}
    assert internals.check.int_param(3, "n") == 3
    assert "max_concurrent" not in internals.get_retries_config().config_type.fields  # it is ours, not Dagster's
