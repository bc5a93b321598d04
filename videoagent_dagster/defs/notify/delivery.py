"""Webhook notifications: a signed POST to the brief's webhook_url when a task ends."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

from videoagent_dagster.settings import current

SIGNATURE_HEADER = "X-Videoagent-Signature"


class WebhookRefused(ValueError):
    """The URL points somewhere webhooks may not go (an address that is not public)."""


DEFAULT_TIMEOUT_S = 10.0


def allow_private() -> bool:
    return current().webhook_allow_private


def timeout_from_env() -> float:
    """VIDEOAGENT_WEBHOOK_TIMEOUT_S: the most one notification may take, all attempts together
    (default 10 s). The webhook sensors deliver one run's notification after another within a tick
    (up to five runs a tick, Dagster's default), so this keeps a tick well inside Dagster's 60 s
    sensor timeout whatever the receivers do."""
    return current().webhook_timeout_s


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address, and for IPv6 forms that carry an IPv4 address (mapped,
    6to4, Teredo, NAT64) that address public too: ::ffff:127.0.0.1, 2002:7f00:1:: or 64:ff9b::a00:1
    reach 127.0.0.1 and 10.0.0.1 through a gateway. is_global, not "not is_private": shared address
    space (100.64.0.0/10, where one cloud's metadata service answers) is neither."""
    if ip.is_multicast or not ip.is_global:
        return False
    if ip.version == 6:
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        embedded += [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _NAT64 if ip in net]
        return all(e is None or _public(e) for e in embedded)
    return True


def check_target(url: str) -> str | None:
    """Refuse URLs that resolve to any address that is not public (private, loopback, link-local,
    shared, reserved, documentation ranges: SSRF), unless VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE=1.
    Returns the checked address to connect to (None when private targets are allowed), so a second
    DNS answer cannot redirect the request."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"webhook URL {url!r} is not an http(s) URL")
    if allow_private():
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise WebhookRefused(f"webhook host {parts.hostname!r} does not resolve: {e}") from e
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])  # (a scoped IPv6 address names its interface)
        if not _public(ip):
            raise WebhookRefused(f"webhook host {parts.hostname!r} resolves to {ip}, which is not a public address; "
                                 "set VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE=1 to allow it")
    return infos[0][4][0]


def _pinned(url: str, address: str | None) -> tuple[str, dict, dict]:
    """The URL with its host replaced by the checked address, the Host header, and the TLS server
    name, so the connection goes where the check looked (no DNS rebinding)."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    pinned = parts._replace(netloc=netloc).geturl()
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return pinned, {"host": parts.netloc.rsplit("@", 1)[-1]}, extensions


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(url: str, payload: dict, *, secret: str, attempts: int = 3, timeout_s: float = 5.0,
            backoff_s: float = 1.0, deadline_s: float | None = None) -> tuple[bool, str]:
    """POST the payload, signed; retry a few times with backoff (tenacity). Bounded in time: an
    attempt takes at most timeout_s however the receiver behaves (one that accepts and never
    answers, or answers a byte at a time), and all attempts with their backoff at most deadline_s
    (default: attempts x timeout_s + backoff). Never raises for delivery failures: returns
    (delivered, what happened)."""
    import httpcore
    import tenacity

    target, host_header, extensions = _pinned(url, check_target(url))
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, secret),
               "user-agent": "videoagent-webhook/1", **host_header}
    budget = deadline_s if deadline_s is not None else \
        attempts * timeout_s + sum(backoff_s * 2 ** a for a in range(attempts - 1))
    started = time.monotonic()
    end = started + budget

    def post() -> int:
        now = time.monotonic()
        attempt_end = min(end, now + timeout_s)
        left = attempt_end - now
        # httpcore directly (httpx's transport): no proxies from the environment, no redirects,
        # and a network backend that holds every connect, read and write to the attempt's end.
        with httpcore.ConnectionPool(network_backend=_DeadlineBackend(attempt_end), retries=0) as pool:
            resp = pool.request("POST", target, headers=list(headers.items()), content=body,
                                extensions={"timeout": dict.fromkeys(("connect", "read", "write", "pool"), left),
                                            **extensions})
        return resp.status

    def resend(status: int) -> bool:
        # A 4xx other than 408/429 is the receiver refusing this request: resending will not help.
        return status >= 300 and not (400 <= status < 500 and status not in (408, 429))

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts) | tenacity.stop_before_delay(budget),
        wait=tenacity.wait_exponential(multiplier=backoff_s),
        retry=tenacity.retry_if_exception_type((httpcore.TimeoutException, httpcore.NetworkError,
                                                httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError))
        | tenacity.retry_if_result(resend),
        retry_error_callback=lambda state: state.outcome.exception() or state.outcome.result(),
    )
    outcome = retrying(post)
    tries = retrying.statistics.get("attempt_number", 1)
    if isinstance(outcome, int) and outcome < 300:
        return True, f"{outcome} after {tries} attempt(s)"
    last = f"HTTP {outcome}" if isinstance(outcome, int) else f"{type(outcome).__name__}: {outcome}"
    return False, f"{last} (gave up after {time.monotonic() - started:.1f} s)"


def _left(deadline: float, timeout: float | None, exc: type[Exception]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("the receiver took longer than the webhook timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """A connection whose reads and writes all end by one deadline: a per-operation timeout alone
    lets a receiver that sends a byte every few seconds hold the sender for ever."""

    def __init__(self, stream, deadline: float):
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return self._stream.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        import httpcore

        stream = self._stream.start_tls(ssl_context, server_hostname,
                                        _left(self._deadline, timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's synchronous network backend, with every stream held to a deadline."""

    def __init__(self, deadline: float):
        import httpcore

        self._backend, self._deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        import httpcore

        stream = self._backend.connect_tcp(host, port, _left(self._deadline, timeout, httpcore.ConnectTimeout),
                                           local_address=local_address, socket_options=socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise NotImplementedError("webhooks go over TCP")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
