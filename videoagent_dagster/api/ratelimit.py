"""Requests a minute per API key: counted in Redis when VIDEOAGENT_REDIS_URL is set (shared by
every gateway), else in this process. A fixed one-minute window: simple, and its Retry-After is
exact."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("videoagent.gateway")


class RateLimiter:
    def __init__(self, per_minute: int, redis_url: str | None = None):
        self.per_minute = per_minute
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one request; None when it is allowed, else the seconds until the next window."""
        now = time.time() if now is None else now
        window = int(now // 60)
        retry_after = 60 - (now % 60)
        count = None
        if self._redis is not None:
            import redis

            name = f"videoagent:rate:{key}:{window}"
            try:
                with self._redis.pipeline() as pipe:
                    count, _ = pipe.incr(name).expire(name, 120).execute()
            except redis.RedisError as e:  # Redis away: count here meanwhile rather than refuse everyone
                log.warning("rate limit: Redis failed (%s); counting in this process", e)
        if count is None:
            with self._lock:
                count = self._counts[(key, window)] = self._counts.get((key, window), 0) + 1
                if len(self._counts) > 10_000:  # old windows
                    self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        return None if count <= self.per_minute else retry_after
