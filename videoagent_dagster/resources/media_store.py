"""The media store: where every frame, clip, voice line, video and cached provider result lives."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import dagster as dg


class MediaStore(dg.ConfigurableResource):
    """A local folder (default `./storage`) holding media under stable keys such as
    `tasks/{task}/clips/shot_001.mp4`. Writes are atomic: a file appears complete or not at all.
    """

    root: str = "./storage"  # DEFAULT_ROOT

    def setup_for_execution(self, context) -> None:  # noqa: D401 - dagster hook
        if self.root.startswith("s3://"):
            raise dg.Failure(
                "VIDEOAGENT_STORAGE=s3://… is not supported by this build yet; use a local folder"
            )

    @property
    def base(self) -> Path:
        return Path(self.root).expanduser().resolve()

    def path(self, key: str) -> Path:
        """The local file for a key. Keys are relative POSIX paths made by our code; '..' is refused."""
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
            raise ValueError(f"media key {key!r} is not a relative path inside the store")
        return self.base.joinpath(*parts)

    def uri(self, key: str) -> str:
        return str(self.path(key))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> str:
        with self.writing(key) as tmp:
            tmp.write_bytes(data)
        return key

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """Yield a temporary path to write; on success it replaces `key` atomically, on error it is removed."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=final.suffix, dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            if not tmp.exists() or tmp.stat().st_size == 0:
                raise RuntimeError(f"nothing was written for {key}")
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def copy(self, src_key: str, dst_key: str) -> str:
        """Copy within the store (a hard link where the filesystem allows: same bytes, no space)."""
        src, dst = self.path(src_key), self.path(dst_key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        return dst_key

    def sha256(self, key: str) -> str:
        h = hashlib.sha256()
        with self.path(key).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()


DEFAULT_ROOT = "./storage"


def media_store_from_env() -> MediaStore:
    """The media store as configured for this process (VIDEOAGENT_STORAGE, default ./storage)."""
    return MediaStore(root=os.environ.get("VIDEOAGENT_STORAGE") or DEFAULT_ROOT)
