"""What a vendor's answer means, decided where the answer is read: the SDK exception (its status
code and type) or the job's status. Whatever retries later (the chain, a step's RetryPolicy)
reads `transient` from these types; no retry decision reads a message."""

from __future__ import annotations

from typing import Any


class VendorError(RuntimeError):
    """A vendor call failed. `transient`: the fault may pass, so a later attempt may succeed;
    otherwise it needs a fix (a key, the prompt, the configuration)."""

    transient: bool = False


class VendorTransient(VendorError):
    """Timeouts, rate limits, the vendor's server errors, dropped connections, a job still running
    at its deadline or ended by the vendor's own fault."""

    transient = True


class VendorRefused(VendorError):
    """The vendor answered that the request itself is unacceptable (400/401/403/404/422, content
    policy, a refused job): the same request would be refused again."""


class ProviderConfigError(VendorError):
    """A provider is not configured (a missing API key or endpoint); the message names what to set."""


class VendorJobFailed(VendorError):
    """The vendor ran the job and it failed (its terminal state). `transient` when the vendor's job
    status says the fault was its own (a new job may succeed); a refusal is not."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def status_of(e: BaseException) -> int | None:
    """The HTTP status of a vendor SDK or httpx error, if it carries one."""
    status = getattr(e, "status_code", None)
    if status is None and getattr(e, "response", None) is not None:
        status = getattr(e.response, "status_code", None)
    return status if isinstance(status, int) else None


def kinds_of(e: BaseException) -> set[str]:
    """The class names of `e` and of every exception in its cause chain (SDKs wrap transport errors)."""
    names: set[str] = set()
    seen: BaseException | None = e
    while seen is not None:
        names |= {c.__name__ for c in type(seen).__mro__}
        seen = seen.__cause__ or seen.__context__
    return names


TIMEOUTS = {"TimeoutError", "TimeoutException", "APITimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout",
            "PoolTimeout"}
CONNECTION_FAILURES = {"APIConnectionError", "ConnectError", "ConnectionError", "NetworkError", "RemoteProtocolError"}


def explain(e: BaseException, provider: str, key_var: str | None, retries: int, timeout: float) -> VendorError:
    """A vendor SDK exception as a typed error that says what happened and what to do."""
    status = status_of(e)
    detail = _detail(_body(e)) or str(e)
    if status == 401:
        return VendorRefused(f"{provider} rejected the API key (401){': check ' + key_var if key_var else ''}")
    if status == 403:
        return VendorRefused(f"{provider} refused access (403): {detail}")
    if status in (400, 404, 422):
        if _is_policy(detail):
            return VendorRefused(f"{provider} refused the prompt ({status}): {detail}")
        return VendorRefused(f"{provider} rejected the request ({status}): {detail}")
    if status == 429:
        return VendorTransient(f"{provider} is still rate-limiting (429) after {retries} retries: {detail}")
    if status in (408, 409):
        return VendorTransient(f"{provider} answered {status} after {retries} retries: {detail}")
    if status and status >= 500:
        return VendorTransient(f"{provider} server error ({status}) after {retries} retries: {detail}")
    if status:
        return VendorError(f"{provider} answered {status}: {detail}")
    kinds = kinds_of(e)
    if kinds & TIMEOUTS:
        return VendorTransient(f"{provider} did not answer within {timeout:g} s ({retries} retries)")
    if kinds & CONNECTION_FAILURES:
        return VendorTransient(f"cannot reach {provider} ({retries} retries): {e}")
    return VendorError(f"{provider}: {type(e).__name__}: {detail}")


def _body(e: BaseException) -> Any:
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
    return body


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)
        return str(err)
    return str(body) if body else ""


def _is_policy(text: str) -> bool:
    """Only to word the message (refused the prompt / rejected the request): both are refusals."""
    t = text.lower()
    return any(w in t for w in ("policy", "safety", "moderation", "refus", "not allowed"))
