"""Links anyone holding them can open until they expire: the gateway's own file URLs carry an
expiry and an HMAC of (path, expiry); an altered or expired link is refused (403). Handed out by
the gateway (API responses, WebSocket events) and by the webhook sensors (payload links), so both
sign with one key: VIDEOAGENT_LINK_SECRET, or one made once and kept in the media store they share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import urlencode

from videoagent_dagster.domain.keys import LINK_SECRET_KEY
from videoagent_dagster.settings import Settings
from videoagent_dagster.storage.media_store import MediaStore

# The files of a task a link can open (besides frame_N).
FILES = ("video", "thumbnail", "subtitles.srt", "subtitles.ass", "contact_sheet", "storyboard", "otio",
         "fcp_xml", "edl")


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
        if not expires or not sig or not re.fullmatch(r"[0-9]{1,12}", expires):
            return "this link is not signed"
        if not hmac.compare_digest(self._mac(path, int(expires)), sig):
            return "this link's signature does not match (altered?)"
        if int(expires) < time.time():
            return "this link has expired; ask the API for a new one"
        return None


def link_path(task: str, name: str) -> str:
    return f"/api/v1/links/{task}/{name}"


def link_signer(settings: Settings, store: MediaStore) -> LinkSigner:
    """The signer every gateway and the webhook sensors share (see the module's note)."""
    secret = settings.link_secret.get_secret_value()
    if not secret:
        store.create_exclusive(LINK_SECRET_KEY, secrets.token_urlsafe(32).encode())  # the first one made stays
        secret = store.read_bytes(LINK_SECRET_KEY).decode()
    return LinkSigner(secret, settings.link_ttl_s)


def task_links(signer: LinkSigner, base: str, task: str, names=FILES) -> dict[str, str]:
    """Signed links to a task's files on the gateway at `base`."""
    return {name: base.rstrip("/") + signer.sign(link_path(task, name)) for name in names}


def openable_links(settings: Settings, store: MediaStore, task: str, final) -> dict[str, str]:
    """Links to a finished task's video, thumbnail and subtitles that whoever holds them can open:
    the gateway's signed links when VIDEOAGENT_PUBLIC_URL names it, else presigned S3 URLs, else
    (a store on this machine, no gateway) the files' own URIs."""
    from videoagent_dagster.domain.keys import task_media_key

    names = ("video", "thumbnail", "subtitles.srt")
    if settings.public_url:
        return task_links(link_signer(settings, store), settings.public_url, task, names)
    keys = {"video": final.key, "thumbnail": task_media_key(task, "final", "thumbnail.jpg"),
            "subtitles.srt": task_media_key(task, "audio", "subtitles.srt")}
    return {name: store.presigned_url(key, settings.link_ttl_s) or store.uri(key) for name, key in keys.items()}
