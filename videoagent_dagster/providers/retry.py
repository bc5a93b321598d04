"""Retrying a paid create call only where it cannot start (and bill) a second job.

The vendor SDKs would retry a create after a read timeout too, when the first request may well
have started a job: so creates run with SDK retries off and through `call_safely`, which retries
only answers that say nothing was created — 429 (honouring Retry-After), 5xx — and connections
that failed before the request was sent."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")


def status_of(e: BaseException) -> int | None:
    status = getattr(e, "status_code", None)
    if status is None and getattr(e, "response", None) is not None:
        status = getattr(e.response, "status_code", None)
    return status


def safe_to_retry(e: BaseException) -> bool:
    status = status_of(e)
    if status is not None:
        # 429 and 500/503 are the service's own refusals. 502/504 come from a gateway that may have
        # handed the request on before it gave up: not safe for a create.
        return status in (429, 500, 503)
    # Only a connection that was never made proves the request was not sent: look for the
    # connect error in the cause chain (SDKs wrap every transport error, some after sending).
    seen: BaseException | None = e
    while seen is not None:
        names = {c.__name__ for c in type(seen).__mro__}
        if any("Timeout" in n for n in names):
            return False
        if names & {"ConnectError", "ConnectionRefusedError"}:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_after(e: BaseException) -> float | None:
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None) or {}
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unreadable hint: fall back to our own backoff
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def call_safely(fn: Callable[[], R], *, retries: int, base_s: float = 1.0, cap_s: float = 60.0) -> R:
    """fn(), retried up to `retries` times where safe, with exponential backoff and full jitter
    (or the vendor's Retry-After when it gives one)."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as e:
            if attempt == retries or not safe_to_retry(e):
                raise
            hinted = retry_after(e)
            time.sleep(min(cap_s, hinted) if hinted is not None else random.uniform(0, min(cap_s, base_s * 2 ** attempt)))
    raise AssertionError("unreachable")
