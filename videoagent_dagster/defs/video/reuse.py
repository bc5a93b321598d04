"""Nothing made again that did not change: a stage records what it made a file from (the input
files' bytes, its settings and the media code), and a re-run with the same digest whose file is
byte-for-byte as recorded uses it (and what was found in it) instead of encoding or inspecting
again. Beside the provider cache (which keys what vendors made), this keys what our own ffmpeg
passes made: the narration track, the mastered soundtrack, conformed clips' verdicts, the final cut."""

import functools
import hashlib
import json
from pathlib import Path

import videoagent_dagster.media
from videoagent_dagster.storage.media_store import MediaStore


@functools.cache
def _media_code() -> str:
    """A digest of the media code (every module of the package): what makes and inspects the files."""
    h = hashlib.sha256()
    for source in sorted(Path(videoagent_dagster.media.__file__).parent.rglob("*.py")):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    return h.hexdigest()


def made_from(*parts) -> str:
    """A digest of what a file, or what was found in it, is made from: files (Paths) by their bytes,
    None as nothing, anything else as JSON; and the media code. A re-run whose digest matches may
    use what was recorded (`reusable`) instead of making or inspecting it again."""
    h = hashlib.sha256(_media_code().encode())
    for part in parts:
        if isinstance(part, Path):
            h.update(b"file\0")
            with part.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()


def reusable(store: MediaStore, record_key: str, digest: str, *made: str) -> dict | None:
    """What `remember` recorded when the files `made` were last made, if they were made from
    `digest` and are as they were then (same bytes); else None."""
    if not store.exists(record_key) or not all(store.exists(k) for k in made):
        return None
    try:
        record = json.loads(store.read_bytes(record_key))
    except ValueError:
        return None
    if record.get("made_from") != digest or record.get("sha256") != {k: store.sha256(k) for k in made}:
        return None
    return record


def remember(store: MediaStore, record_key: str, digest: str, *made: str, **facts) -> None:
    """Record that the files `made` (as they are now) were made from `digest`, with `facts` about them."""
    store.write_bytes(record_key, json.dumps({"made_from": digest, "sha256": {k: store.sha256(k) for k in made},
                                              **facts}).encode())
