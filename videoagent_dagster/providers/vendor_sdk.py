"""What the vendor modules share: defaults, the pooled HTTP client, environment look-ups.

The SDKs already retry transient failures (connection errors, 408/409/429/5xx) with exponential
backoff and jitter, honouring Retry-After: we only set how many times and how long to wait. Each
vendor module builds its SDK client once per process and settings (`shared`), and the warm-up
(chain.warm_up) builds it before the first call."""

from __future__ import annotations

import os
import threading
from functools import lru_cache, wraps

from videoagent_dagster.providers.errors import ProviderConfigError

DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_S = 120.0


_building = threading.RLock()  # reentrant: a client built from another shared one


def shared(build):
    """`build(*args)` made once per process and arguments, even when many threads ask at the same
    moment (lru_cache alone lets each of them build its own): a video stage's shots all start
    together, and every SDK or httpx client built loads the CA store into a new SSL context — tens
    of ms of CPU each, most of a second of wall time when eight threads do it at once. The clients
    are thread-safe, so one serves every thread."""
    cached = lru_cache(maxsize=32)(build)

    @wraps(build)
    def get(*args):
        with _building:
            return cached(*args)

    get.cache_clear, get.cache_info = cached.cache_clear, cached.cache_info
    return get


def pooled(base):
    """An SDK client maker (api_key, base_url, max_retries, timeout) over `base(api_key, base_url,
    timeout)`: one client per settings, and every retries setting of it (creates run with none,
    polls with the SDK's) shares the base's connection pool through the SDK's `with_options`."""
    base = shared(base)

    @shared
    def client(api_key: str, base_url: str | None, max_retries: int, timeout: float):
        return base(api_key, base_url, timeout).with_options(max_retries=max_retries)

    return client


@shared
def http_client(timeout: float):
    """One pooled HTTP client per timeout, shared by every thread (downloads, plain-HTTP vendors)."""
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
