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


class UnknownFile(KeyError):
    """A file name no task has (not one of FILES, frame_N nor cut_N)."""


def file_key(store: MediaStore, task: str, name: str) -> str | None:
    """Where a task's file named `name` (FILES, frame_N, or cut_N: an earlier cut) is in the media store; None while the
    task has not made it. The one map from the names links and the API use to storage keys."""
    from videoagent_dagster.domain.keys import manifest_key, task_media_key
    from videoagent_dagster.domain.manifests import EditorExport
    from videoagent_dagster.tasks.operations import final_video_of

    if name == "video":
        final = final_video_of(store, task)
        return final.key if final is not None else None
    if name == "thumbnail":
        return task_media_key(task, "final", "thumbnail.jpg")
    if name in ("subtitles.srt", "subtitles.ass"):
        return task_media_key(task, "audio", name)
    if name == "contact_sheet":
        return task_media_key(task, "frames", "contact_sheet.png")
    if name == "storyboard":
        return manifest_key(task, "storyboard")
    if name in ("otio", "fcp_xml", "edl"):
        export = manifest_key(task, "editor_export")
        return getattr(EditorExport.model_validate_json(store.read_bytes(export)), f"{name}_key") \
            if store.exists(export) else None
    if re.fullmatch(r"frame_[0-9]{1,4}", name):
        return task_media_key(task, "frames", f"shot_{int(name[6:]):03d}.png")
    if re.fullmatch(r"cut_[0-9]{1,4}", name):  # an earlier cut, by its place in the task's history (1 = the first)
        final = final_video_of(store, task)
        history = final.history if final is not None else []
        n = int(name[4:])
        return history[n - 1].key if 1 <= n <= len(history) else None
    raise UnknownFile(name)


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
    names = ("video", "thumbnail", "subtitles.srt")
    if settings.public_url:
        return task_links(link_signer(settings, store), settings.public_url, task, names)
    keys = {name: final.key if name == "video" else file_key(store, task, name) for name in names}
    return {name: store.presigned_url(key, settings.link_ttl_s) or store.uri(key) for name, key in keys.items()}
