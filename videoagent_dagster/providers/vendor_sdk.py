"""Vendor SDK clients, configured once and shared (each costs tens of milliseconds to build), and vendor errors turned into messages that say what to fix.

The SDKs already retry transient failures (connection errors, 408/409/429/5xx) with exponential
backoff and jitter, honouring Retry-After: we only set how many times and how long to wait."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_S = 120.0


@lru_cache(maxsize=32)
def openai_client(api_key: str, base_url: str | None, max_retries: int, timeout: float):
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url or None, max_retries=max_retries, timeout=timeout)


@lru_cache(maxsize=32)
def runway_client(api_key: str, base_url: str | None, max_retries: int, timeout: float):
    from runwayml import RunwayML

    return RunwayML(api_key=api_key, base_url=base_url or None, max_retries=max_retries, timeout=timeout)


@lru_cache(maxsize=8)
def http_client(timeout: float):
    """One pooled HTTP client per timeout, shared by every thread (httpx clients are thread-safe):
    building a client loads the CA store, about 20 ms of CPU — per poll of a video job, that adds up."""
    import httpx

    return httpx.Client(timeout=timeout)


@lru_cache(maxsize=32)
def anthropic_client(api_key: str, base_url: str | None, max_retries: int, timeout: float):
    import anthropic

    return anthropic.Anthropic(api_key=api_key, base_url=base_url or None, max_retries=max_retries, timeout=timeout)


def orientation(width: int, height: int) -> str:
    """'landscape', 'portrait' or 'square' (within 10%): how vendors' size and ratio options are chosen."""
    return "landscape" if width > height * 1.1 else "portrait" if height > width * 1.1 else "square"


def env_base_url(var: str, default: str | None = None) -> str | None:
    return os.environ.get(var, "").strip() or default


class VendorRefusal(RuntimeError):
    """The vendor answered that the request itself is unacceptable (400/401/403/404/422, content
    policy): retrying the same request cannot help."""


def explain(e: BaseException, provider: str, key_var: str | None, retries: int, timeout: float) -> RuntimeError:
    """A vendor SDK exception as an error that says what happened and what to do."""
    from videoagent_dagster.providers.retry import status_of

    status = status_of(e)
    body = getattr(e, "body", None)
    if body is None and getattr(e, "response", None) is not None:
        try:
            body = e.response.json()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - not JSON: keep the text
            body = getattr(e.response, "text", "")[:500]  # type: ignore[attr-defined]
        if isinstance(body, dict) and "detail" in body:
            body = {"error": {"message": str(body["detail"])}}
        if isinstance(body, dict) and "errors" in body:
            body = {"error": {"message": "; ".join(map(str, body["errors"]))}}
    detail = _detail(body) or str(e)
    name = type(e).__name__
    if status == 401:
        return VendorRefusal(f"{provider} rejected the API key (401){': check ' + key_var if key_var else ''}")
    if status == 403:
        return VendorRefusal(f"{provider} refused access (403): {detail}")
    if status in (400, 404, 422):
        if _is_policy(detail):
            return VendorRefusal(f"{provider} refused the prompt ({status}): {detail}")
        return VendorRefusal(f"{provider} rejected the request ({status}): {detail}")
    if status == 429:
        return RuntimeError(f"{provider} is still rate-limiting (429) after {retries} retries: {detail}")
    if status and status >= 500:
        return RuntimeError(f"{provider} server error ({status}) after {retries} retries: {detail}")
    if "Timeout" in name:
        return RuntimeError(f"{provider} did not answer within {timeout:g} s ({retries} retries)")
    if "Connection" in name:
        return RuntimeError(f"cannot reach {provider} ({retries} retries): {e}")
    return RuntimeError(f"{provider}: {name}: {detail}")


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)
        return str(err)
    return str(body) if body else ""


def _is_policy(text: str) -> bool:
    t = text.lower()
    return any(w in t for w in ("policy", "safety", "moderation", "refus", "not allowed"))
