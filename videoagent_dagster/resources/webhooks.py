"""Webhook notifications: a signed POST to the brief's webhook_url when a task ends."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
import time
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Videoagent-Signature"


class WebhookRefused(ValueError):
    """The URL points somewhere webhooks may not go (private, loopback or link-local addresses)."""


def allow_private() -> bool:
    return os.environ.get("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")


def check_target(url: str) -> str | None:
    """Refuse URLs that resolve to private, loopback, link-local or reserved addresses (SSRF),
    unless VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE=1. Returns the checked address to connect to (None
    when private targets are allowed), so a second DNS answer cannot redirect the request."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"webhook URL {url!r} is not an http(s) URL")
    if allow_private():
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as e:
        raise WebhookRefused(f"webhook host {parts.hostname!r} does not resolve: {e}") from e
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise WebhookRefused(f"webhook host {parts.hostname!r} resolves to {ip}, a non-public address; "
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
            backoff_s: float = 1.0) -> tuple[bool, str]:
    """POST the payload, signed; retry a few times with backoff. Bounded in time (a receiver that
    stays down costs at most attempts x timeout + backoff), never raises for delivery failures:
    returns (delivered, what happened)."""
    import httpx

    target, host_header, extensions = _pinned(url, check_target(url))
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, secret),
               "user-agent": "videoagent-webhook/1", **host_header}
    last = ""
    for attempt in range(attempts):
        try:
            with httpx.Client(trust_env=False, timeout=timeout_s, follow_redirects=False) as client:  # no proxies
                resp = client.post(target, content=body, headers=headers, extensions=extensions)
            if resp.status_code < 300:
                return True, f"{resp.status_code} after {attempt + 1} attempt(s)"
            last = f"HTTP {resp.status_code}"
            if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                break  # the receiver refuses this request: resending will not help
        except httpx.HTTPError as e:
            last = f"{type(e).__name__}: {e}"
        if attempt + 1 < attempts:
            time.sleep(backoff_s * 2 ** attempt)
    return False, last
