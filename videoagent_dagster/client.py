"""Operations on tasks over a running Dagster webserver's GraphQL API: submit, status, list,
cancel, retry, download. The CLI's `videoagent submit|status|…` and, later, a REST gateway are
thin layers over this one module.

Plain GraphQL over httpx, nothing heavier: `videoagent status` starts in a fraction of a second
because neither Dagster nor its GraphQL client is imported. A task's runs are found by their
partition tag, so runs launched from the UI (the asset graph's own job) count as much as the
`make_video` runs this client launches."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from videoagent_dagster.domain.brief import (
    flat_brief,
    raw_from_flat,
    run_tags,
    validate_brief,
)
from videoagent_dagster.domain.keys import TASK_PARTITIONS
from videoagent_dagster.domain.task_keys import check_task_key, new_task_key

JOB = "make_video"
PARTITION_TAG = "dagster/partition"  # on every run of a task, whichever job or launcher made it
# The design's stage words, by the step that is running.
STAGES = {"video_brief": "pending", "style_profile": "style_detection", "script": "story_generation",
          "cast": "story_generation", "storyboard": "storyboard_breakdown", "reference_sheets": "image_generation",
          "first_frames": "image_generation",
          "narration": "video_generation", "shot_clips": "video_generation", "final_video": "composing",
          "editor_export": "composing"}
# Share of the work each step stands for, for progress 0-1.
WEIGHTS = {"video_brief": 0.02, "style_profile": 0.03, "script": 0.08, "cast": 0.03, "storyboard": 0.08,
           "reference_sheets": 0.04, "first_frames": 0.19, "narration": 0.1, "shot_clips": 0.26, "final_video": 0.15,
           "editor_export": 0.02}
STEP_NAMES = {"first_frames": "first frames", "shot_clips": "shot clips", "narration": "narration",
              "final_video": "composing", "storyboard": "storyboard", "script": "script",
              "style_profile": "style", "video_brief": "brief", "editor_export": "editor export", "cast": "cast",
              "reference_sheets": "reference sheets"}

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
    ... on EventConnection { cursor hasMore events { __typename
      ... on MessageEvent { message stepKey level timestamp }
      ... on ExecutionStepFailureEvent { error { message } }
      ... on RunFailureEvent { pipelineFailureError: error { message } } } }
    ... on PythonError { message }
    ... on RunNotFoundError { message }
  }
}"""

TASK_RUNS_QUERY = """
query TaskRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status runConfig } }
    ... on PythonError { message }
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

REPOSITORIES = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
    ... on PythonError { message }
  }
}"""

LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

TERMINATE = """
mutation Terminate($runId: String!) {
  terminateRun(runId: $runId) {
    __typename
    ... on TerminateRunSuccess { run { runId } }
    ... on Error { message }
  }
}"""

REEXECUTE = """
mutation Retry($parentRunId: String!) {
  launchRunReexecution(reexecutionParams: {parentRunId: $parentRunId, strategy: FROM_FAILURE}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

# The brief's own fields; the rest of video_brief's config are its options (VideoBriefConfig).


class ClientError(RuntimeError):
    """The webserver refused or failed an operation; the message says which and why."""


class Unreachable(ClientError):
    """No webserver answered at the URL (refused, no such host, timed out)."""


class Submitted(tuple):
    """(task, run id) of a submitted task; `existing` when the task was there already with the
    same brief, and the run is its run rather than a new one."""

    existing: bool

    def __new__(cls, task: str, run_id: str, existing: bool = False):
        self = super().__new__(cls, (task, run_id))
        self.existing = existing
        return self

    @property
    def task(self) -> str:
        return self[0]

    @property
    def run_id(self) -> str:
        return self[1]


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


QUEUED = ("QUEUED", "NOT_STARTED", "STARTING")
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


class RunProgress:
    """What a run's event log says of its task, folded in as the events arrive: the stage, the
    progress 0-1, the running steps ("shot clips 3/5") and the first failure. `videoagent status`
    feeds it a whole log once; the REST gateway feeds it each new page of a log it follows, so a
    status is never worked out by reading a log again."""

    def __init__(self, task: str, run_id: str):
        self.task, self.run_id = task, run_id
        self.done: set[str] = set()
        self.started: list[str] = []
        self.last_message: dict[str, str] = {}
        self.error: dict[str, str] | None = None  # {step, message} of the first failed step
        self.started_at: float | None = None  # the first step's start (epoch seconds)
        self.cursor: str | None = None

    def feed(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            step, kind = e.get("stepKey"), e["__typename"]
            if kind == "ExecutionStepStartEvent" and self.started_at is None and e.get("timestamp"):
                self.started_at = float(e["timestamp"]) / 1000
            if kind == "RunFailureEvent" and self.error is None:
                failure = (e.get("pipelineFailureError") or {}).get("message") or e.get("message") or "the run failed"
                self.error = {"step": "run", "message": failure.strip()}
            if not step:
                continue
            if kind == "ExecutionStepSuccessEvent":
                self.done.add(step)
            elif kind == "ExecutionStepStartEvent":
                self.started.append(step)
            elif kind == "LogMessageEvent":
                self.last_message[step] = e["message"]
            elif kind == "ExecutionStepFailureEvent" and (self.error is None or self.error["step"] == "run"):
                message = ((e.get("error") or {}).get("message") or e.get("message") or "failed").strip()
                # Dagster prefixes a Failure's description with the exception's type name
                self.error = {"step": step, "message": re.sub(r"^[\w.]*(Failure|Error|Exception): ", "", message)}

    def shots(self) -> dict[str, Any]:
        """{total, completed, current} of the shot stage running now (or last counted)."""
        for step in ("shot_clips", "first_frames", "narration"):
            m = re.search(r"(\d+)/(\d+)", self.last_message.get(step, ""))
            if m and step not in self.done:
                return {"total": int(m.group(2)), "completed": int(m.group(1)),
                        "current": min(int(m.group(1)) + 1, int(m.group(2))), "stage": STEP_NAMES[step]}
        total = next((int(m.group(2)) for s in ("shot_clips", "first_frames") if
                      (m := re.search(r"(\d+)/(\d+)", self.last_message.get(s, "")))), None)
        finished = "shot_clips" in self.done
        return {"total": total, "completed": total if finished else 0, "current": None, "stage": None}

    def status(self, run_status: str) -> TaskStatus:
        task, run_id = self.task, self.run_id
        if run_status in QUEUED:
            return TaskStatus(task, "pending", 0.0, "waiting in the queue", run_id, run_status)
        # Steps can run side by side (narration beside frames and clips): the stage word is the
        # earliest running step's, the text names each running step.
        order = list(WEIGHTS)
        running = sorted({s for s in self.started if s not in self.done},
                         key=lambda s: order.index(s) if s in order else len(order))
        progress = sum(WEIGHTS.get(s, 0) for s in self.done)
        texts = []
        for current in running:
            m = re.search(r"(\d+)/(\d+)", self.last_message.get(current, ""))
            name = STEP_NAMES.get(current, current)
            if m:
                progress += WEIGHTS.get(current, 0) * int(m.group(1)) / max(1, int(m.group(2)))
                name += f" {m.group(1)}/{m.group(2)}"
            texts.append(name)
        step_text = ", ".join(texts)
        if run_status == "SUCCESS":
            return TaskStatus(task, "completed", 1.0, "done", run_id, run_status)
        if run_status in ("CANCELED", "CANCELING"):
            return TaskStatus(task, "cancelled", round(progress, 3), step_text or "cancelled", run_id, run_status)
        if run_status == "FAILURE":
            return TaskStatus(task, "failed", round(progress, 3), step_text or "failed", run_id, run_status)
        # Between two steps nothing runs for a moment: the stage stays the furthest one reached.
        reached = running[:1] or sorted(set(self.started), key=lambda s: order.index(s) if s in order else -1)[-1:]
        stage = STAGES.get(reached[0], "pending") if reached else "pending"
        return TaskStatus(task, stage, round(min(progress, 0.99), 3), step_text, run_id, run_status)


def _failure(result: dict[str, Any]) -> str:
    """What a GraphQL union result that is not a success says about itself."""
    errors = result.get("errors")
    if errors:
        return "; ".join(e["message"] for e in errors)
    return result.get("message") or result["__typename"]


class VideoagentClient:
    def __init__(self, url: str = "http://127.0.0.1:3000", timeout: float = 60):
        self.url = url
        base = (url if "://" in url else f"http://{url}").rstrip("/")
        self.endpoint = f"{base}/graphql"
        self.timeout = timeout
        self._repo: dict[str, str] | None = None

    def _execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL operation; its failures as ClientError, one line each: a webserver
        that cannot be reached says so, not as a connection-pool traceback."""
        try:
            response = httpx.post(self.endpoint, json={"query": query, "variables": variables or {}},
                                  timeout=self.timeout)
        except (httpx.TransportError, httpx.InvalidURL) as e:  # refused, no such host, timed out, bad URL
            reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(e)) or type(e).__name__
            raise Unreachable(f"cannot reach the webserver at {self.url} ({reason}): is it running, and is "
                              "--url (or $VIDEOAGENT_URL) its address?") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise ClientError(f"{self.url} answered HTTP {response.status_code}, not GraphQL: is --url (or "
                              "$VIDEOAGENT_URL) the Dagster webserver?")
        if body.get("errors"):
            raise ClientError(f"the Dagster webserver at {self.url} failed: {body['errors'][0].get('message')}")
        return body["data"]

    def _repository(self) -> dict[str, str]:
        if self._repo is None:
            result = self._execute(REPOSITORIES)["repositoriesOrError"]
            if result["__typename"] != "RepositoryConnection":
                raise ClientError(f"the Dagster webserver at {self.url} failed: {_failure(result)}")
            found = [n for n in result["nodes"] if any(j["name"] == JOB for j in n["jobs"])]
            if len(found) != 1:
                raise ClientError(f"expected one code location with the {JOB} job at {self.url}, found {len(found)}")
            self._repo = {"repositoryLocationName": found[0]["location"]["name"],
                          "repositoryName": found[0]["name"]}
        return self._repo

    # -- operations -------------------------------------------------------------------------------
    def submit(self, raw_brief: dict[str, Any], task: str | None = None) -> Submitted:
        """Validate the brief here (clear errors before any network call), add the task's partition
        and launch its run with the brief as video_brief's config. Returns (task, run id).

        Task keys never collide: a generated key that is taken already is drawn again. A key of the
        caller's own (`task`) that exists is an error, unless that task was submitted with the same
        brief: then this is the same submission again (a retry after a lost answer) and its task and
        latest run come back (`existing`), with no second run."""
        topic = raw_brief.get("topic")
        if task is not None:
            try:
                check_task_key(task)
            except ValueError as e:
                raise ClientError(str(e)) from None
        brief = validate_brief(raw_brief, task or "check")
        # content screening's word lists here too, before any network call (the moderation vendor,
        # if any, is asked where the brief is stored)
        from videoagent_dagster.domain.screening import screen_brief
        from videoagent_dagster.settings import current

        screen_brief(brief, current().screening_words)
        config = flat_brief({**raw_brief, "topic": brief.topic, "user": brief.user, "priority": brief.priority,
                             "webhook_url": brief.webhook_url})
        repo = self._repository()
        for _ in range(5):
            key = task or new_task_key(topic if isinstance(topic, str) else "")
            added = self._execute(ADD_PARTITION, {"repositorySelector": repo, "partitionsDefName": TASK_PARTITIONS,
                                                  "partitionKey": key})["addDynamicPartition"]
            if added["__typename"] == "AddDynamicPartitionSuccess":
                break
            if added["__typename"] != "DuplicateDynamicPartitionError":
                raise ClientError(f"could not add partition {key}: {added.get('message', added['__typename'])}")
            if task is not None:
                run_id = self._run_with_brief(key, brief)
                if run_id:
                    return Submitted(key, run_id, existing=True)
                raise ClientError(f"task key {key} already exists with a different brief (or one not submitted "
                                  "through this client); choose another key, or leave it out to have one made")
        else:
            raise ClientError(f"could not find a free task key for {topic!r} in 5 tries")
        return Submitted(key, self._launch(key, validate_brief(raw_brief, key), config))

    def start(self, brief) -> str:
        """Launch the run of a task whose brief is stored already (prepare_task: the REST gateway's
        path); video_brief reads the stored brief. Returns the run id."""
        repo = self._repository()
        added = self._execute(ADD_PARTITION, {"repositorySelector": repo, "partitionsDefName": TASK_PARTITIONS,
                                              "partitionKey": brief.task})["addDynamicPartition"]
        if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise ClientError(f"could not add partition {brief.task}: {added.get('message', added['__typename'])}")
        return self._launch(brief.task, brief, None)

    def _launch(self, key: str, brief, config: dict[str, Any] | None) -> str:
        run_config = {"ops": {"video_brief": {"config": config}}} if config else {}
        launched = self._execute(LAUNCH, {"executionParams": {
            "selector": {**self._repository(), "jobName": JOB},
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in
                                           {PARTITION_TAG: key, **run_tags(brief, _time_limit(brief))}.items()]},
        }})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise ClientError(f"could not launch task {key}: {_failure(launched)}")
        return launched["run"]["runId"]

    def _run_with_brief(self, task: str, brief) -> str | None:
        """The latest run of a task if the task was submitted with this brief (the same validated
        brief, whatever its spelling), else None."""
        from videoagent_dagster.domain.brief import BriefError

        data = self._execute(TASK_RUNS_QUERY, {"filter": {"tags": [{"key": PARTITION_TAG, "value": task}]}})
        result = data["runsOrError"]
        if result["__typename"] != "Runs":
            raise ClientError(_failure(result))
        runs = result["results"]  # newest first
        submitted = [r for r in runs if ((r["runConfig"] or {}).get("ops") or {}).get("video_brief")]
        if not submitted:
            return None
        # video_brief's config back into a brief, as VideoBriefConfig.as_raw_brief reads it
        config = submitted[-1]["runConfig"]["ops"]["video_brief"].get("config") or {}
        raw = raw_from_flat(config)
        try:
            existing = validate_brief(raw, task) if config.get("topic") is not None else None
        except BriefError:
            return None
        same = existing is not None and (existing.model_dump(exclude={"task", "created_at"})
                                         == brief.model_dump(exclude={"task", "created_at"}))
        return runs[0]["runId"] if same else None

    def runs(self, task: str | None = None, limit: int = 100, *, statuses: list[str] | None = None,
             run_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """A task's runs (or every task's), newest first: every run of a partition, whichever job
        ran it (make_video, or the asset graph's job when the UI materialised the partition)."""
        tags = [{"key": PARTITION_TAG, "value": task}] if task else []
        filter_: dict[str, Any] = {"tags": tags}
        if statuses:
            filter_["statuses"] = statuses
        if run_ids:
            filter_["runIds"] = run_ids
        data = self._execute(RUNS_QUERY, {"filter": filter_, "limit": limit})
        result = data["runsOrError"]
        if result["__typename"] != "Runs":
            raise ClientError(_failure(result))
        return [r for r in result["results"] if any(t["key"] == PARTITION_TAG for t in r["tags"])]

    def _latest(self, task: str) -> dict[str, Any]:
        runs = self.runs(task, limit=1)
        if not runs:
            raise ClientError(f"no run for task {task!r} on {self.url}")
        return runs[0]

    def status(self, task: str) -> TaskStatus:
        run = self._latest(task)
        progress = RunProgress(task, run["runId"])
        if run["status"] not in QUEUED:
            progress.feed(self._events(run["runId"]))
        return progress.status(run["status"])

    def _events(self, run_id: str) -> list[dict[str, Any]]:
        events, cursor, more = [], None, True
        while more:
            page, cursor, more = self.events_after(run_id, cursor)
            events += page
        return events

    def events_after(self, run_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
        """One page of a run's event log after `cursor`: (events, the new cursor, whether more follow)."""
        data = self._execute(LOGS_QUERY, {"runId": run_id, "afterCursor": cursor})["logsForRun"]
        if data["__typename"] != "EventConnection":
            raise ClientError(_failure(data))
        return data["events"], data["cursor"], data["hasMore"]

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest run of each task, newest first."""
        seen, out = set(), []
        for run in self.runs(limit=limit):
            tags = {t["key"]: t["value"] for t in run["tags"]}
            task = tags.get(PARTITION_TAG)
            if task and task not in seen:
                seen.add(task)
                out.append({"task": task, "run_id": run["runId"], "run_status": run["status"],
                            "user": tags.get("videoagent/user"), "priority": tags.get("videoagent/priority")})
        return out

    def cancel(self, task: str) -> str:
        run = self._latest(task)
        result = self._execute(TERMINATE, {"runId": run["runId"]})["terminateRun"]
        if result["__typename"] != "TerminateRunSuccess":
            raise ClientError(f"could not cancel {task} (run {run['runId']}): {_failure(result)}")
        return run["runId"]

    def retry(self, task: str) -> str:
        """Re-execute the latest run from failure: what succeeded is not run again (and the cache
        makes even the failed steps redo only their failed shots)."""
        run = self._latest(task)
        if run["status"] not in ("FAILURE", "CANCELED"):
            raise ClientError(f"task {task} has not failed (its latest run is {run['status']})")
        result = self._execute(REEXECUTE, {"parentRunId": run["runId"]})["launchRunReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise ClientError(f"could not retry {task}: {_failure(result)}")
        return result["run"]["runId"]


def _time_limit(brief) -> int:
    """The run's time limit for this brief with the configured video vendor (plan_rules.max_runtime_s)."""
    from videoagent_dagster.domain.plan_rules import max_runtime_s
    from videoagent_dagster.settings import current

    return max_runtime_s(brief, current().clip_deadline_s())
