"""The threaded executor on a real instance, through execute_job as a run worker runs it: steps whose
inputs are ready run at the same time, a failure skips only what depends on it, retries work, and
the make_video job uses it."""


import threading

import dagster as dg

from videoagent_dagster.defs.video.executor import threaded_executor

# Two steps that can only both finish if they run at the same time: each waits for the other.
MEET = threading.Barrier(2)
WAIT_S = {"value": 20.0}
TRIES: list[int] = []


@dg.asset
def source() -> int:
    return 1


@dg.asset
def left(source: int) -> int:
    MEET.wait(timeout=WAIT_S["value"])
    return source + 1


@dg.asset
def right(source: int) -> int:
    MEET.wait(timeout=WAIT_S["value"])
    return source + 2


@dg.asset
def joined(left: int, right: int) -> int:
    return left + right


@dg.asset
def broken(source: int) -> int:
    raise RuntimeError("this step fails on purpose")


@dg.asset
def after_broken(broken: int) -> int:
    return broken


@dg.asset
def steady(source: int) -> int:
    return source


@dg.asset
def retried(context: dg.AssetExecutionContext, source: int) -> int:
    TRIES.append(context.retry_number)
    if context.retry_number == 0:
        raise dg.RetryRequested(max_retries=1, seconds_to_wait=0.1)
    return source


POLICY_TRIES: dict[str, list[int]] = {"passing": [], "refused": []}


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.1, backoff=dg.Backoff.EXPONENTIAL,
                                      jitter=dg.Jitter.PLUS_MINUS))
def passing_trouble(context: dg.AssetExecutionContext, source: int) -> int:
    """Fails twice as a vendor's passing fault would; the policy retries it."""
    POLICY_TRIES["passing"].append(context.retry_number)
    if context.retry_number < 2:
        raise RuntimeError("overloaded, try again")
    return source


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.1))
def refused(context: dg.AssetExecutionContext, source: int) -> int:
    """A permanent failure: the policy must not retry it."""
    POLICY_TRIES["refused"].append(context.retry_number)
    raise dg.Failure("the vendor refused this request", allow_retries=False)


def policy_job() -> dg.JobDefinition:
    return dg.Definitions(assets=[source, passing_trouble, refused], jobs=[dg.define_asset_job(
        "policy", executor_def=threaded_executor)]).resolve_job_def("policy")


def concurrent_job() -> dg.JobDefinition:
    return dg.Definitions(assets=[source, left, right, joined], jobs=[dg.define_asset_job(
        "concurrent", executor_def=threaded_executor)]).resolve_job_def("concurrent")


def failing_job() -> dg.JobDefinition:
    return dg.Definitions(assets=[source, broken, after_broken, steady, retried], jobs=[dg.define_asset_job(
        "failing", executor_def=threaded_executor)]).resolve_job_def("failing")


def _steps(instance, run_id: str, kind: dg.DagsterEventType) -> set[str]:
    return {e.step_key for e in instance.all_logs(run_id, of_type=kind)}


def test_independent_steps_run_at_the_same_time(instance):
    MEET.reset()
    result = dg.execute_job(dg.reconstructable(concurrent_job), instance)
    assert result.success  # left and right met at the barrier: with steps in order, both would time out
    assert _steps(instance, result.run_id, dg.DagsterEventType.STEP_SUCCESS) == {"source", "left", "right", "joined"}
    assert instance.get_latest_materialization_event(dg.AssetKey("joined")) is not None


def test_a_failure_skips_only_what_depends_on_it_and_retries_work(instance):
    TRIES.clear()
    result = dg.execute_job(dg.reconstructable(failing_job), instance)
    assert not result.success
    run = result.run_id
    assert _steps(instance, run, dg.DagsterEventType.STEP_FAILURE) == {"broken"}
    assert "after_broken" not in _steps(instance, run, dg.DagsterEventType.STEP_START)  # as in_process: not run
    assert {"source", "steady", "retried"} <= _steps(instance, run, dg.DagsterEventType.STEP_SUCCESS)
    assert TRIES == [0, 1]
    failure = next(iter(instance.all_logs(run, of_type=dg.DagsterEventType.STEP_FAILURE)))
    assert "this step fails on purpose" in failure.dagster_event.step_failure_data.error.to_string()


def test_retry_policies_are_honoured_and_a_failure_that_forbids_retries_is_not_retried(instance):
    for tries in POLICY_TRIES.values():
        tries.clear()
    result = dg.execute_job(dg.reconstructable(policy_job), instance)
    assert not result.success
    run = result.run_id
    assert POLICY_TRIES == {"passing": [0, 1, 2], "refused": [0]}
    assert "passing_trouble" in _steps(instance, run, dg.DagsterEventType.STEP_SUCCESS)
    assert _steps(instance, run, dg.DagsterEventType.STEP_FAILURE) == {"refused"}
    retried = [e.step_key for e in instance.all_logs(run, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)]
    assert retried == ["passing_trouble", "passing_trouble"]


def test_max_concurrent_caps_the_steps_in_flight(instance, monkeypatch):
    MEET.reset()
    monkeypatch.setitem(WAIT_S, "value", 1.0)
    result = dg.execute_job(dg.reconstructable(concurrent_job), instance, run_config={
        "execution": {"config": {"max_concurrent": 1}}}, raise_on_error=False)
    # One step at a time: the first waits at the barrier for the other, which cannot start, until it
    # gives up and breaks the barrier; then the other fails at once.
    assert not result.success
    assert _steps(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE) == {"left", "right"}
    assert "joined" not in _steps(instance, result.run_id, dg.DagsterEventType.STEP_START)


def test_make_video_uses_it_unless_told_otherwise(monkeypatch):
    from videoagent_dagster.defs.video.jobs import executor_for
    from videoagent_dagster.settings import current

    monkeypatch.delenv("VIDEOAGENT_EXECUTOR", raising=False)
    assert executor_for(current()).name == "threaded"
    monkeypatch.setenv("VIDEOAGENT_EXECUTOR", "in_process")
    assert executor_for(current()).name == "in_process"


def test_runs_starting_together_on_postgresql_share_the_new_pools(tmp_path):
    """Six runs that first claim a pool at the same moment each find its limit (ensure_pools):
    Dagster 1.13 alone lets one of them fail on PostgreSQL (seen in the deployment test)."""
    from dagster._core.instance.ref import InstanceRef

    from tests.services import fresh_database
    from videoagent_dagster.defs.video.executor import ensure_pools

    with fresh_database("videoagent_pools") as db:
        (tmp_path / "dagster.yaml").write_text(
            "storage:\n  postgres:\n    postgres_url: postgresql+psycopg2://postgres@127.0.0.1:5432/" + db + "\n"
            "concurrency:\n  pools:\n    default_limit: 4\n    granularity: op\n")
        errors, barrier = [], threading.Barrier(6)

        def start_run():
            with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
                barrier.wait()
                try:
                    ensure_pools(instance, {"llm", "tts", "video"})
                except Exception as e:  # noqa: BLE001 - collected and shown
                    errors.append(e)

        threads = [threading.Thread(target=start_run) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
            storage = instance.event_log_storage
            assert {"llm", "tts", "video"} <= storage.get_concurrency_keys()
            assert storage.get_concurrency_info("tts").slot_count == 4
            storage.set_concurrency_slots("video", 2)  # an operator's own limit…
            ensure_pools(instance, {"video"})
            assert storage.get_concurrency_info("video").slot_count == 2  # …is left alone
