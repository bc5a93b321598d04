"""What the vendor modules share: defaults, the pooled HTTP client, environment look-ups.

The SDKs already retry transient failures (connection errors, 408/409/429/5xx) with exponential
backoff and jitter, honouring Retry-After: we only set how many times and how long to wait. Each
vendor module builds its SDK client once (lru_cache: a client costs tens of milliseconds)."""

from __future__ import annotations

import os
from functools import lru_cache

from videoagent_dagster.providers.errors import ProviderConfigError

DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_S = 120.0


@lru_cache(maxsize=8)
def http_client(timeout: float):
    """One pooled HTTP client per timeout, shared by every thread (httpx clients are thread-safe):
    building a client loads the CA store, about 20 ms of CPU — per poll of a video job, that adds up."""
    import httpx

    return httpx.Client(timeout=timeout)


def orientation(width: int, height: int) -> str:
    """'landscape', 'portrait' or 'square' (within 10%): how vendors' size and ratio options are chosen."""
    return "landscape" if width > height * 1.1 else "portrait" if height > width * 1.1 else "square"


def env_base_url(var: str, default: str | None = None) -> str | None:
    return os.environ.get(var, "").strip() or default


def require_env(var: str, provider: str) -> str:
    value = os.environ.get(var, "").strip()
    if not value:
        raise ProviderConfigError(f"{var} is not set: set it to use the {provider} provider")
    return value
