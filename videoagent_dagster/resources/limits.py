"""Per-provider limits inside one process: at most N calls at once and M calls a minute.

Across runs and processes, Dagster pools (one per stage) bound how many steps call a stage at
once; these limits bound the calls those steps make."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .pricing import limits_for


class _Limiter:
    def __init__(self, concurrency: int, rpm: int):
        self.slots = threading.BoundedSemaphore(concurrency) if concurrency > 0 else None
        self.interval = 60.0 / rpm if rpm > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        if self.slots:
            self.slots.acquire()
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
            if self.slots:
                self.slots.release()


_limiters: dict[tuple[str, int, int], _Limiter] = {}
_guard = threading.Lock()


def provider_slot(provider: str):
    """A context manager that holds one of `provider`'s call slots."""
    concurrency, rpm = limits_for(provider)
    key = (provider, concurrency, rpm)
    with _guard:
        limiter = _limiters.setdefault(key, _Limiter(concurrency, rpm))
    return limiter.hold()
