"""Links anyone holding them can open until they expire: the gateway's own file URLs carry an
expiry and an HMAC of (path, expiry). An altered or expired link is refused (403)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode


class LinkSigner:
    def __init__(self, secret: str, ttl_s: int):
        self._secret, self.ttl_s = secret.encode(), ttl_s

    def _mac(self, path: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def sign(self, path: str, now: float | None = None) -> str:
        """`path?expires=…&sig=…`, good for ttl_s from now."""
        expires = int((now or time.time()) + self.ttl_s)
        return f"{path}?{urlencode({'expires': expires, 'sig': self._mac(path, expires)})}"

    def check(self, path: str, expires: str | None, sig: str | None) -> str | None:
        """Why a link does not open (None: it opens)."""
        if not expires or not sig or not expires.isdigit():
            return "this link is not signed"
        if not hmac.compare_digest(self._mac(path, int(expires)), sig):
            return "this link's signature does not match (altered?)"
        if int(expires) < time.time():
            return "this link has expired; ask the API for a new one"
        return None
