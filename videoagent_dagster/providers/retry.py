"""Retrying a paid create call only where it cannot start (and bill) a second job.

The vendor SDKs would retry a create after a read timeout too, when the first request may well
have started a job: so creates run with SDK retries off and through `call_safely` (tenacity),
which retries only answers that say nothing was created — 429 (honouring Retry-After), 500/503 —
and connections that failed before the request was sent."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from videoagent_dagster.providers.errors import kinds_of, status_of

R = TypeVar("R")


def safe_to_retry(e: BaseException) -> bool:
    status = status_of(e)
    if status is not None:
        # 429 and 500/503 are the service's own refusals. 502/504 come from a gateway that may have
        # handed the request on before it gave up: not safe for a create.
        return status in (429, 500, 503)
    # Only a connection that was never made proves the request was not sent: the connect error
    # somewhere in the cause chain (SDKs wrap every transport error, some after sending), and no
    # timeout (a read timeout comes after the request went out).
    kinds = kinds_of(e)
    return not any("Timeout" in k for k in kinds) and bool(kinds & {"ConnectError", "ConnectionRefusedError"})


def retry_after(e: BaseException) -> float | None:
    """The vendor's Retry-After hint in seconds (retry-after-ms, seconds or an HTTP date), if readable."""
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


class wait_retry_after(tenacity.wait.wait_base):
    """The vendor's Retry-After (up to `cap_s`) when it sends one, else `fallback`."""

    def __init__(self, fallback: tenacity.wait.wait_base, cap_s: float):
        self.fallback, self.cap_s = fallback, cap_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        hinted = retry_after(retry_state.outcome.exception()) if retry_state.outcome else None
        return min(self.cap_s, hinted) if hinted is not None else self.fallback(retry_state)


def call_safely(fn: Callable[[], R], *, retries: int, base_s: float = 1.0, cap_s: float = 60.0) -> R:
    """fn(), retried up to `retries` times where safe, with exponential backoff and full jitter
    (or the vendor's Retry-After when it gives one)."""
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries + 1),
        retry=tenacity.retry_if_exception(safe_to_retry),
        wait=wait_retry_after(tenacity.wait_random_exponential(multiplier=base_s, max=cap_s), cap_s),
        reraise=True,
    )(fn)
