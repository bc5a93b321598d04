"""Per-provider limits inside one process: at most N calls at once and M calls a minute.

Across runs and processes, Dagster pools (one per stage) bound how many steps call a stage at
once; these limits bound the calls those steps make."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from videoagent_dagster.providers.pricing import limits_for

# Narration runs beside the frames and clips, off the critical path: when it shares a vendor with
# them (OpenAI images and speech), its calls wait for a free slot after theirs.
STAGE_PRIORITY = {"llm": 0, "image": 0, "video": 0, "tts": 1}  # lower goes first


class _Limiter:
    def __init__(self, concurrency: int, rpm: int):
        self.capacity = concurrency  # 0: no limit
        self.in_use = 0
        self.waiting: list[tuple[int, int]] = []  # (priority, arrival): a heap of callers waiting for a slot
        self.arrivals = itertools.count()
        self.free = threading.Condition()
        self.interval = 60.0 / rpm if rpm > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def _acquire(self, priority: int) -> None:
        with self.free:
            ticket = (priority, next(self.arrivals))
            heapq.heappush(self.waiting, ticket)
            try:
                while self.in_use >= self.capacity or self.waiting[0] != ticket:
                    self.free.wait()
                heapq.heappop(self.waiting)
            except BaseException:  # interrupted in line (a run being stopped): leave the line, or
                if ticket in self.waiting:  # everyone behind this place waits for ever
                    self.waiting.remove(ticket)
                    heapq.heapify(self.waiting)
                    self.free.notify_all()  # the next in line may be first now
                raise
            self.in_use += 1
            self.free.notify_all()  # the next in line may fit too

    def _release(self) -> None:
        with self.free:
            self.in_use -= 1
            self.free.notify_all()

    @contextmanager
    def hold(self, priority: int = 0) -> Iterator[None]:
        if self.capacity:
            self._acquire(priority)
        try:
            if self.interval:
                with self.lock:  # space calls evenly: the simplest RPM limit that never bursts past it
                    now = time.monotonic()
                    wait = max(0.0, self.next_at - now)
                    self.next_at = max(now, self.next_at) + self.interval
                if wait:
                    time.sleep(wait)
            yield
        finally:
            if self.capacity:
                self._release()


_limiters: dict[tuple[str, int, int], _Limiter] = {}
_guard = threading.Lock()


def provider_slot(provider: str, stage: str = "llm"):
    """A context manager that holds one of `provider`'s call slots; waiting callers get free slots
    by their stage's priority (STAGE_PRIORITY), then in order of arrival."""
    concurrency, rpm = limits_for(provider)
    key = (provider, concurrency, rpm)
    with _guard:
        limiter = _limiters.setdefault(key, _Limiter(concurrency, rpm))
    return limiter.hold(STAGE_PRIORITY.get(stage, 0))
