"""What the gateway knows of each task, kept current by following Dagster's event log.

One thread asks the webserver, twice a second, which runs are in progress and reads only the new
part of each one's log (GraphQL `logsForRun` after its cursor), folding it into the task's
RunProgress. A status request, a task list or a WebSocket is then answered from memory, not by
reading a run's log again; a finished task's log is read once, the first time it is asked for.
Each change is pushed to the task's WebSocket subscribers as the design's events."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from videoagent_dagster.client import (
    FINISHED,
    QUEUED,
    ClientError,
    RunProgress,
    VideoagentClient,
)

log = logging.getLogger("videoagent.gateway")
ACTIVE = [*QUEUED, "STARTED", "CANCELING"]
GIVE_UP_AFTER = 20  # ticks (10 s) a run cannot be read before its task is reported failed


@dataclass
class TaskView:
    task: str
    created_at: float
    run_id: str | None = None
    run_status: str | None = None
    run_started: float | None = None
    run_ended: float | None = None
    progress: RunProgress | None = None
    state: dict[str, Any] = field(default_factory=dict)  # the last state pushed
    cost_usd: float = 0.0
    failures: int = 0  # ticks in a row its run could not be read

    @property
    def finished(self) -> bool:
        return self.run_status in FINISHED

    def snapshot(self) -> dict[str, Any]:
        """The task's state in the REST API's words (links are added by the app)."""
        now = time.time()
        if self.progress is None:  # made, its run not found yet
            status = {"status": "pending", "progress": 0.0, "step": "waiting for its run"}
            error, shots, started = None, {"total": None, "completed": 0, "current": None}, None
        else:
            s = self.progress.status(self.run_status or "QUEUED")
            status = {"status": s.status, "progress": s.progress, "step": s.step}
            error = self.progress.error if s.status in ("failed", "cancelled") or self.progress.error else None
            shots = {k: v for k, v in self.progress.shots().items() if k != "stage"}
            started = self.run_started or self.progress.started_at
        end = self.run_ended if self.finished and self.run_ended else now
        elapsed = round(end - started, 1) if started else 0.0
        p = status["progress"]
        remaining = None
        if status["status"] in ("completed", "failed", "cancelled"):
            remaining = 0.0
        elif started and p >= 0.05:
            remaining = round(elapsed * (1 - p) / p, 1)
        return {"task_id": self.task, **{"status": status["status"], "progress": p, "current_step": status["step"]},
                "created_at": _iso(self.created_at), "started_at": _iso(started) if started else None,
                "elapsed": elapsed, "estimated_remaining": remaining, "storyboard": shots,
                "error": error, "cost_usd": round(self.cost_usd, 4), "run_id": self.run_id,
                "run_status": self.run_status}


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


class Tracker:
    def __init__(self, client: VideoagentClient, cost_of=lambda task: 0.0, poll_s: float = 0.5):
        self.client, self.cost_of, self.poll_s = client, cost_of, poll_s
        self.views: dict[str, TaskView] = {}
        self._lock = threading.RLock()
        self._ticking = threading.Lock()  # one look at Dagster at a time (the thread, or a request's)
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="videoagent-tracker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except ClientError as e:  # the webserver is away for a moment: say so once a tick, keep going
                log.warning("following runs: %s", e)
            except Exception:  # noqa: BLE001 - the follower must outlive one bad answer
                log.exception("following runs failed")
            self._stop.wait(max(0.0, self.poll_s - (time.monotonic() - started)))

    # -- what the API asks ---------------------------------------------------------------------------
    def view(self, task: str, created_at: float | None = None) -> TaskView:
        """The task's view; the first ask for a task not followed yet reads its latest run once."""
        with self._lock:
            view = self.views.get(task)
        if view is not None:
            return view
        view = TaskView(task, created_at or time.time())
        runs = self.client.runs(task, limit=1)
        if runs:
            self._switch(view, runs[0])
            self._read_log(view)
        view.cost_usd = self.cost_of(task)
        view.state = view.snapshot()
        with self._lock:
            return self.views.setdefault(task, view)

    def created(self, task: str, run_id: str, created_at: float) -> dict[str, Any]:
        """A task the gateway just launched: followed from now, its `task_created` pushed."""
        view = TaskView(task, created_at, run_id=run_id, run_status="QUEUED", progress=RunProgress(task, run_id))
        view.state = view.snapshot()
        with self._lock:
            self.views[task] = view
        self._push(task, "task_created", view.state)
        return view.state

    def relaunched(self, task: str, run_id: str) -> None:
        """A new run of a task (retry): followed from its start."""
        view = self.view(task)
        with self._ticking:
            with self._lock:
                self._switch(view, {"runId": run_id, "status": "QUEUED", "startTime": None, "endTime": None})
            self._update(view)

    # -- following -------------------------------------------------------------------------------------
    def _switch(self, view: TaskView, run: dict[str, Any]) -> None:
        if view.run_id != run["runId"] or view.progress is None:
            view.run_id, view.progress = run["runId"], RunProgress(view.task, run["runId"])
        view.run_status = run["status"]
        view.run_started, view.run_ended = run.get("startTime"), run.get("endTime")

    def _read_log(self, view: TaskView) -> None:
        progress = view.progress  # (a retry may give the view a new one meanwhile)
        assert progress is not None
        more = True
        while more:
            events, cursor, more = self.client.events_after(progress.run_id, progress.cursor)
            progress.feed(events)
            progress.cursor = cursor

    def tick(self) -> None:
        """One look at Dagster: runs in progress, and the new events of each followed one."""
        with self._ticking:
            self._tick()

    def _tick(self) -> None:
        active = {r["runId"]: r for r in self.client.runs(limit=500, statuses=ACTIVE)}
        by_task = {}
        for run in active.values():
            tags = {t["key"]: t["value"] for t in run["tags"]}
            by_task.setdefault(tags.get("dagster/partition"), run)  # newest first
        with self._lock:
            followed = [v for v in self.views.values() if not v.finished or v.task in by_task]
        ended = [v.run_id for v in followed if v.run_id and v.run_id not in active and v.task not in by_task]
        finals = {r["runId"]: r for r in self.client.runs(run_ids=ended, limit=len(ended))} if ended else {}
        for view in followed:
            try:
                self._follow(view, by_task.get(view.task) or finals.get(view.run_id or ""))
                view.failures = 0
            except Exception as e:  # noqa: BLE001 - one run that cannot be read must not stop the others
                view.failures += 1
                log.warning("following %s (run %s): %s", view.task, view.run_id, e)
                if view.failures >= GIVE_UP_AFTER and view.progress is not None:
                    # e.g. the run was deleted from Dagster: say so, and stop asking
                    view.progress.error = {"step": "run", "message": f"the run cannot be read from Dagster: {e}"}
                    view.run_status = "FAILURE"
                    self._update(view)

    def _follow(self, view: TaskView, run: dict[str, Any] | None) -> None:
        if run is not None:
            with self._lock:
                self._switch(view, run)
        if view.progress is not None and view.run_status not in QUEUED:
            before = (len(view.progress.done), view.progress.error)
            self._read_log(view)
            if (len(view.progress.done), view.progress.error) != before or view.finished:
                view.cost_usd = self.cost_of(view.task)
        self._update(view)

    def _update(self, view: TaskView) -> None:
        """Push what changed since the last push."""
        old, new = view.state, view.snapshot()
        view.state = new
        if new["status"] != old.get("status"):
            self._push(view.task, "status_changed", new)
        elif (new["progress"], new["current_step"]) != (old.get("progress"), old.get("current_step")):
            self._push(view.task, "progress_update", new)
        if new["error"] and new["error"] != old.get("error"):
            self._push(view.task, "error_occurred", new)
        if new["status"] != old.get("status"):
            if new["status"] == "completed":
                self._push(view.task, "task_completed", new)
            elif new["status"] in ("failed", "cancelled"):
                self._push(view.task, "task_failed", new)

    # -- WebSocket subscribers ---------------------------------------------------------------------
    def subscribe(self, task: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.setdefault(task, set()).add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, task: str, queue: asyncio.Queue) -> None:
        with self._lock:
            subs = self._subscribers.get(task, set())
            for sub in [s for s in subs if s[1] is queue]:
                subs.discard(sub)

    def _push(self, task: str, event: str, state: dict[str, Any]) -> None:
        message = message_of(event, task, state)
        with self._lock:
            subs = list(self._subscribers.get(task, ()))
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(_offer, queue, message)
            except RuntimeError:  # that connection's loop has closed
                self.unsubscribe(task, queue)


def message_of(event: str, task: str, state: dict[str, Any]) -> dict[str, Any]:
    """A WebSocket message in the design's shape: {event, task_id, timestamp, data}."""
    return {"event": event, "task_id": task, "timestamp": _iso(time.time()), "data": state}


def _offer(queue: asyncio.Queue, message: dict[str, Any]) -> None:
    if queue.full():  # a client that does not read: drop its oldest, keep the newest
        queue.get_nowait()
    queue.put_nowait(message)
