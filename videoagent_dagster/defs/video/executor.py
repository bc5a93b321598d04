"""threaded_executor: a run's steps in one process, each in its own thread as soon as its inputs are
ready — narration is spoken while the frames are painted and the clips filmed, the editor export
is written while the final cut is made.

Our steps spend their time waiting on vendors (HTTP) and on ffmpeg processes, not running Python,
so threads overlap them well. Dagster's in-process executor runs steps one after another; its
multiprocess executor starts a Python process per step that loads the definitions again (about
3 s a step on a small machine — slower than running in order). Dagster has no threaded executor
(dagster-io/dagster#4041), so this is one: the in-process executor's step loop, with each step's
events produced in a worker thread and handed to the run's thread, which alone updates the plan's
state, yields the events and runs hooks, as the in-process executor does.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial

import dagster as dg

from videoagent_dagster.defs.video.dagster_internals import (
    DagsterEvent,
    EngineEventData,
    ExecuteRunWithPlanIterable,
    ExecutionPlan,
    InstanceConcurrencyContext,
    PlanExecutionContext,
    PlanExecutionContextManager,
    PlanOrchestrationContext,
    RetryMode,
    StepDependencyConfig,
    check,
    create_compute_log_file_key,
    dagster_event_sequence_for_step,
    get_retries_config,
    get_step_dependency_config_field,
    serializable_error_info_from_exc_info,
    trigger_hook,
)

DEFAULT_MAX_CONCURRENT = 8  # steps at once; each stage limits its own vendor calls besides
_DONE = object()  # a worker's last message: its step has yielded every event


class _Raised:
    """A worker's step raised outside the step's own error handling (a framework error)."""

    def __init__(self, error: BaseException):
        self.error = error


class ThreadedExecutor(dg.Executor):
    def __init__(self, retries: RetryMode, max_concurrent: int,
                 step_dependency_config: StepDependencyConfig = StepDependencyConfig.default()):
        self._retries = check.inst_param(retries, "retries", RetryMode)
        self._max_concurrent = check.int_param(max_concurrent, "max_concurrent")
        self._step_dependency_config = step_dependency_config

    @property
    def retries(self) -> RetryMode:
        return self._retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._step_dependency_config

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        keys = execution_plan.step_keys_to_execute
        yield DagsterEvent.engine_event(
            plan_context, f"Executing steps in threads, up to {self._max_concurrent} at once (pid: {os.getpid()})",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys))
        yield from iter(ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=partial(_threaded_steps, max_concurrent=self._max_concurrent),
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job, retry_mode=plan_context.retry_mode, execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config, dagster_run=plan_context.dagster_run,
                instance=plan_context.instance, raise_on_error=plan_context.raise_on_error,
                output_capture=plan_context.output_capture, step_dependency_config=self.step_dependency_config,
            ),
        ))
        yield DagsterEvent.engine_event(plan_context, f"Finished steps in threads (pid: {os.getpid()})",
                                        event_specific_data=EngineEventData.in_process(os.getpid(), keys))


def ensure_pools(instance, pools: set[str], attempts: int = 5) -> None:
    """Create the limit row of each pool that has none yet, before any step claims a slot.

    Dagster 1.13 creates a pool's row (at the deployment's default limit) when a step first claims
    it; two runs doing that at the same moment on PostgreSQL fail one of the runs (the insert's
    IntegrityError aborts the transaction its fallback update then runs in; seen with six runs
    started together). Made here first, a racing run's failure is caught and the row found on the
    next look; existing rows — an operator's `dagster instance concurrency set` — are left alone."""
    storage = instance.event_log_storage
    if not pools or instance.global_op_concurrency_default_limit is None or \
            not storage.supports_global_concurrency_limits:
        return
    for _ in range(attempts):
        try:
            missing = pools - set(storage.get_concurrency_keys())
            if not missing:
                return
            for pool in sorted(missing):
                storage.initialize_concurrency_limit_to_default(pool)
        except Exception:  # noqa: BLE001 - another run made the row first: look again
            time.sleep(0.1)


def _threaded_steps(job_context: PlanExecutionContext, execution_plan: ExecutionPlan, *,
                    max_concurrent: int) -> Iterator[DagsterEvent]:
    instance = job_context.instance
    events: queue.Queue = queue.Queue()
    running: dict[str, tuple] = {}  # step key -> (step context, its events so far)

    def work(step_context) -> None:
        key = step_context.step.key
        try:
            for event in dagster_event_sequence_for_step(step_context):
                events.put((key, event))
        except BaseException as e:  # noqa: BLE001 - the run's thread raises it
            events.put((key, _Raised(e)))
        events.put((key, _DONE))

    ensure_pools(instance, {step.pool for step in execution_plan.get_steps_to_execute_in_topo_order() if step.pool})
    with InstanceConcurrencyContext(instance, job_context.dagster_run) as concurrency, \
            execution_plan.start(retry_mode=job_context.retry_mode, instance_concurrency_context=concurrency,
                                 step_dependency_config=job_context.step_dependency_config) as active, \
            ExitStack() as capture:
        # Logs of the whole process are captured once, as the in-process executor does.
        log_key = instance.compute_log_manager.build_log_key_for_run(job_context.run_id,
                                                                     create_compute_log_file_key())
        try:
            log_context = capture.enter_context(instance.compute_log_manager.capture_logs(log_key))
            yield DagsterEvent.capture_logs(job_context, [s.key for s in execution_plan.get_steps_to_execute_in_topo_order()],
                                            log_key, log_context)
        except Exception:  # noqa: BLE001 - the run goes on without captured logs
            yield DagsterEvent.engine_event(job_context, "Exception while setting up compute log capture",
                                            EngineEventData(error=serializable_error_info_from_exc_info(sys.exc_info())))

        while not active.is_complete or running:
            free = max_concurrent - len(running)
            steps = active.get_steps_to_execute(limit=free) if free > 0 and not active.is_complete else []
            yield from active.concurrency_event_iterator(job_context)
            for step in steps:
                step_context = job_context.for_step(step, active.get_known_state())
                running[step.key] = (step_context, [])
                threading.Thread(target=work, args=(step_context,), name=f"step-{step.key}", daemon=True).start()
            if not running:
                active.sleep_til_ready()  # steps waiting on a retry delay or a pool slot
                continue
            try:
                key, item = events.get(timeout=0.5)
            except queue.Empty:
                continue
            step_context, step_events = running[key]
            if isinstance(item, _Raised):
                raise item.error
            if item is not _DONE:
                step_events.append(item)
                yield item
                active.handle_event(item)
                continue
            del running[key]
            active.verify_complete(job_context, key)
            for event in active.plan_events_iterator(job_context):  # skips after failures
                step_events.append(event)
                yield event
            yield from trigger_hook(step_context, step_events)


@dg.executor(
    name="threaded",
    config_schema={
        "retries": get_retries_config(),
        "max_concurrent": dg.Field(int, default_value=DEFAULT_MAX_CONCURRENT,
                                   description="At most this many steps at once."),
        "step_dependency_config": get_step_dependency_config_field(),
    },
)
def threaded_executor(init_context: dg.InitExecutorContext) -> ThreadedExecutor:
    """Steps in threads of one process, each as soon as its inputs are ready (at most
    `max_concurrent` at once): for steps that wait on vendors and ffmpeg rather than compute in Python."""
    config = init_context.executor_config
    return ThreadedExecutor(
        retries=RetryMode.from_config(config["retries"]),  # type: ignore[arg-type]
        max_concurrent=int(config["max_concurrent"]),  # type: ignore[arg-type]
        step_dependency_config=StepDependencyConfig.from_config(config.get("step_dependency_config")),  # type: ignore[arg-type]
    )
