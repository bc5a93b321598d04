"""Operations on tasks over a running Dagster webserver's GraphQL API: submit, status, list,
cancel, retry, download. The CLI's `videoagent submit|status|…` and, later, a REST gateway are
thin layers over this one module."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from .brief import validate_brief
from .partitions import new_task_key, video_tasks
from .tasks import run_tags

JOB = "make_video"
# The design's stage words, by the step that is running.
STAGES = {"video_brief": "pending", "style_profile": "style_detection", "script": "story_generation",
          "storyboard": "storyboard_breakdown", "first_frames": "image_generation",
          "narration": "video_generation", "shot_clips": "video_generation", "final_video": "composing",
          "editor_export": "composing"}
# Share of the work each step stands for, for progress 0-1.
WEIGHTS = {"video_brief": 0.02, "style_profile": 0.03, "script": 0.1, "storyboard": 0.1, "first_frames": 0.2,
           "narration": 0.1, "shot_clips": 0.28, "final_video": 0.15, "editor_export": 0.02}
STEP_NAMES = {"first_frames": "first frames", "shot_clips": "shot clips", "narration": "narration",
              "final_video": "composing", "storyboard": "storyboard", "script": "script",
              "style_profile": "style", "video_brief": "brief", "editor_export": "editor export"}

RUNS_QUERY = """
query Runs($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { runId status startTime endTime tags { key value } } }
    ... on PythonError { message }
  }
}"""

LOGS_QUERY = """
query Logs($runId: ID!, $afterCursor: String) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: 10000) {
    __typename
    ... on EventConnection { cursor hasMore events { __typename ... on MessageEvent { message stepKey level } } }
    ... on PythonError { message }
    ... on RunNotFoundError { message }
  }
}"""

ADD_PARTITION = """
mutation Add($repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $repositorySelector, partitionsDefName: $partitionsDefName,
                      partitionKey: $partitionKey) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}"""

REEXECUTE = """
mutation Retry($parentRunId: String!) {
  launchRunReexecution(reexecutionParams: {parentRunId: $parentRunId, strategy: FROM_FAILURE}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on UnauthorizedError { message }
  }
}"""


class ClientError(RuntimeError):
    """The webserver refused or failed an operation; the message says which and why."""


@dataclass
class TaskStatus:
    task: str
    status: str  # pending … completed, failed, cancelled (the design's words)
    progress: float
    step: str
    run_id: str | None
    run_status: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class VideoagentClient:
    def __init__(self, url: str = "http://127.0.0.1:3000", timeout: int = 60):
        from dagster_graphql import DagsterGraphQLClient

        parts = urlsplit(url if "://" in url else f"http://{url}")
        self.url = url
        self.gql = DagsterGraphQLClient(parts.hostname or "127.0.0.1", port_number=parts.port,
                                        use_https=parts.scheme == "https", timeout=timeout)

    def _execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        from dagster_graphql import DagsterGraphQLClientError

        try:
            return self.gql._execute(query, variables)  # noqa: SLF001 - the client's own GraphQL entry point
        except DagsterGraphQLClientError as e:
            cause = e.__cause__ or (e.args[1] if len(e.args) > 1 else None)
            detail = str(cause).splitlines()[0] if cause else str(e).splitlines()[0]
            raise ClientError(f"the Dagster webserver at {self.url} failed: {detail}") from e

    def _repository(self) -> dict[str, str]:
        infos = self.gql._get_repo_locations_and_names_with_pipeline(JOB)  # noqa: SLF001
        if len(infos) != 1:
            raise ClientError(f"expected one code location with the {JOB} job at {self.url}, found {len(infos)}")
        return {"repositoryLocationName": infos[0].repository_location_name,
                "repositoryName": infos[0].repository_name}

    # -- operations -------------------------------------------------------------------------------
    def submit(self, raw_brief: dict[str, Any]) -> tuple[str, str]:
        """Validate the brief here (clear errors before any network call), add the task's partition
        and launch its run with the brief as video_brief's config. Returns (task, run id)."""
        topic = raw_brief.get("topic")
        task = new_task_key(topic if isinstance(topic, str) else "")
        brief = validate_brief(raw_brief, task)
        repo = self._repository()
        added = self._execute(ADD_PARTITION, {"repositorySelector": repo, "partitionsDefName": video_tasks.name,
                                              "partitionKey": task})["addDynamicPartition"]
        if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise ClientError(f"could not add partition {task}: {added.get('message', added['__typename'])}")
        config = {"topic": brief.topic, "style": raw_brief.get("style"), "user": brief.user,
                  "priority": brief.priority, "webhook_url": brief.webhook_url,
                  **{k: v for k, v in (raw_brief.get("options") or {}).items()}}
        run_id = self.gql.submit_job_execution(
            JOB, repository_location_name=repo["repositoryLocationName"], repository_name=repo["repositoryName"],
            run_config={"ops": {"video_brief": {"config": {k: v for k, v in config.items() if v is not None}}}},
            tags={"dagster/partition": task, **run_tags(brief)},
        )
        return task, run_id

    def runs(self, task: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        tags = [{"key": "dagster/partition", "value": task}] if task else []
        data = self._execute(RUNS_QUERY, {"filter": {"pipelineName": JOB, "tags": tags}, "limit": limit})
        result = data["runsOrError"]
        if result["__typename"] != "Runs":
            raise ClientError(result.get("message", result["__typename"]))
        return result["results"]  # newest first

    def _latest(self, task: str) -> dict[str, Any]:
        runs = self.runs(task, limit=1)
        if not runs:
            raise ClientError(f"no run for task {task!r} on {self.url}")
        return runs[0]

    def status(self, task: str) -> TaskStatus:
        run = self._latest(task)
        state = run["status"]
        if state in ("QUEUED", "NOT_STARTED", "STARTING"):
            return TaskStatus(task, "pending", 0.0, "waiting in the queue", run["runId"], state)
        events = self._events(run["runId"])
        done, started, last_message = set(), [], {}
        for e in events:
            step = e.get("stepKey")
            if not step:
                continue
            if e["__typename"] == "ExecutionStepSuccessEvent":
                done.add(step)
            elif e["__typename"] == "ExecutionStepStartEvent":
                started.append(step)
            elif e["__typename"] == "LogMessageEvent":
                last_message[step] = e["message"]
        # Steps can run side by side (narration beside frames and clips): the stage word is the
        # earliest running step's, the text names each running step.
        order = list(WEIGHTS)
        running = sorted((s for s in started if s not in done),
                         key=lambda s: order.index(s) if s in order else len(order))
        progress = sum(WEIGHTS.get(s, 0) for s in done)
        texts = []
        for current in running:
            m = re.search(r"(\d+)/(\d+)", last_message.get(current, ""))
            name = STEP_NAMES.get(current, current)
            if m:
                progress += WEIGHTS.get(current, 0) * int(m.group(1)) / max(1, int(m.group(2)))
                name += f" {m.group(1)}/{m.group(2)}"
            texts.append(name)
        step_text = ", ".join(texts)
        if state == "SUCCESS":
            return TaskStatus(task, "completed", 1.0, "done", run["runId"], state)
        if state in ("CANCELED", "CANCELING"):
            return TaskStatus(task, "cancelled", round(progress, 3), step_text or "cancelled", run["runId"], state)
        if state == "FAILURE":
            return TaskStatus(task, "failed", round(progress, 3), step_text or "failed", run["runId"], state)
        stage = STAGES.get(running[0], "pending") if running else "pending"
        return TaskStatus(task, stage, round(min(progress, 0.99), 3), step_text, run["runId"], state)

    def _events(self, run_id: str) -> list[dict[str, Any]]:
        events, cursor = [], None
        while True:
            data = self._execute(LOGS_QUERY, {"runId": run_id, "afterCursor": cursor})["logsForRun"]
            if data["__typename"] != "EventConnection":
                raise ClientError(data.get("message", data["__typename"]))
            events += data["events"]
            cursor = data["cursor"]
            if not data["hasMore"]:
                return events

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest run of each task, newest first."""
        seen, out = set(), []
        for run in self.runs(limit=limit):
            tags = {t["key"]: t["value"] for t in run["tags"]}
            task = tags.get("dagster/partition")
            if task and task not in seen:
                seen.add(task)
                out.append({"task": task, "run_id": run["runId"], "run_status": run["status"],
                            "user": tags.get("videoagent/user"), "priority": tags.get("videoagent/priority")})
        return out

    def cancel(self, task: str) -> str:
        run = self._latest(task)
        self.gql.terminate_run(run["runId"])
        return run["runId"]

    def retry(self, task: str) -> str:
        """Re-execute the latest run from failure: what succeeded is not run again (and the cache
        makes even the failed steps redo only their failed shots)."""
        run = self._latest(task)
        if run["status"] not in ("FAILURE", "CANCELED"):
            raise ClientError(f"task {task} has not failed (its latest run is {run['status']})")
        result = self._execute(REEXECUTE, {"parentRunId": run["runId"]})["launchRunReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or result.get("errors") or result["__typename"]
            raise ClientError(f"could not retry {task}: {detail}")
        return result["run"]["runId"]
