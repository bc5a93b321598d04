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
        return status == 429 or 500 <= status < 600
    names = {c.__name__ for c in type(e).__mro__}
    if any("Timeout" in n for n in names):
        return False  # the request may have arrived: never resend a create
    return bool(names & {"ConnectError", "APIConnectionError", "ConnectionRefusedError"})


def retry_after(e: BaseException) -> float | None:
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None) or {}
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
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
