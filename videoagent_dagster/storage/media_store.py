"""The media store: where every frame, clip, voice line, video and cached provider result lives.

A local folder (default `./storage`) or an S3 bucket/prefix (`s3://bucket/prefix`, MinIO or any
S3-compatible endpoint through `AWS_ENDPOINT_URL` or `VIDEOAGENT_S3_ENDPOINT`, via dagster-aws).
Media tools need files, so on S3 `path()` gives a local copy (downloaded once per object version)
and `writing()` uploads what was written. Writes are atomic: an object appears complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath

import dagster as dg

from videoagent_dagster.domain.keys import takeover_key
from videoagent_dagster.settings import current

DEFAULT_ROOT = "./storage"


def check_key(key: str) -> tuple[str, ...]:
    """Keys are relative POSIX paths made by our code; '..', absolute paths and empty keys are refused."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
        raise ValueError(f"media key {key!r} is not a relative path inside the store")
    return parts


class MediaStore(dg.ConfigurableResource):
    """Media under stable keys such as `tasks/{task}/clips/shot_001.mp4`."""

    root: str = DEFAULT_ROOT
    endpoint_url: str | None = None  # S3-compatible endpoint; default: AWS_ENDPOINT_URL / VIDEOAGENT_S3_ENDPOINT
    cache_dir: str | None = None  # where S3 objects are copied to be worked on; default: a temp folder

    # -- where things are -------------------------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    @property
    def base(self) -> Path:
        """The local folder (for S3: the local copies of objects)."""
        if self.is_s3:
            bucket, prefix = self._bucket_prefix
            root = Path(self.cache_dir or Path(tempfile.gettempdir()) / "videoagent-s3")
            return root.joinpath(bucket, *PurePosixPath(prefix).parts)
        return Path(self.root).expanduser().resolve()

    @property
    def _bucket_prefix(self) -> tuple[str, str]:
        bucket, _, prefix = self.root[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"VIDEOAGENT_STORAGE={self.root!r}: name a bucket, as s3://bucket/prefix")
        return bucket, prefix.strip("/")

    def _object(self, key: str) -> str:
        check_key(key)
        prefix = self._bucket_prefix[1]
        return f"{prefix}/{key}" if prefix else key

    @property
    def _s3(self):
        endpoint = self.endpoint_url or current().s3_endpoint_url()
        return _s3_client(endpoint or None)

    def path(self, key: str) -> Path:
        """A local file for a key (on S3, a fresh local copy when the object exists)."""
        local = self.base.joinpath(*check_key(key))
        if self.is_s3:
            self._fetch(key, local)
        return local

    def uri(self, key: str) -> str:
        if self.is_s3:
            return f"s3://{self._bucket_prefix[0]}/{self._object(key)}"
        return str(self.base.joinpath(*check_key(key)))

    # -- reading ------------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        if not self.is_s3:
            return self.base.joinpath(*check_key(key)).is_file()
        return self._head(key) is not None

    def read_bytes(self, key: str) -> bytes:
        if not self.is_s3:
            return self.path(key).read_bytes()
        return self._s3.get_object(Bucket=self._bucket_prefix[0], Key=self._object(key))["Body"].read()

    def list(self, prefix: str = "") -> list[str]:
        """Keys under a folder-like prefix (`ledger/20261128/ana`; '' for all), sorted."""
        parts = check_key(prefix) if prefix else ()
        if not self.is_s3:
            folder = self.base.joinpath(*parts)
            return sorted(str(p.relative_to(self.base).as_posix()) for p in folder.rglob("*")
                          if p.is_file() and not p.name.startswith(".tmp-")) if folder.is_dir() else []
        bucket, base = self._bucket_prefix
        keys = []
        paginator = self._s3.get_paginator("list_objects_v2")
        full = (self._object(prefix).rstrip("/") + "/") if prefix else (f"{base}/" if base else "")
        for page in paginator.paginate(Bucket=bucket, Prefix=full):
            keys += [o["Key"][len(base) + 1 if base else 0:] for o in page.get("Contents", [])]
        return sorted(keys)

    def sha256(self, key: str) -> str:
        h = hashlib.sha256()
        with self.path(key).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    # -- writing ------------------------------------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> str:
        with self.writing(key) as tmp:
            tmp.write_bytes(data)
        return key

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """Yield a temporary path to write; on success it replaces `key` atomically (on S3: one
        upload), on error it is removed and the key is left as it was."""
        final = self.base.joinpath(*check_key(key))
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_file(final.parent, final.suffix)
        os.close(fd)
        try:
            yield tmp
            if not tmp.exists() or tmp.stat().st_size == 0:
                raise RuntimeError(f"nothing was written for {key}")
            if self.is_s3:
                self._s3.upload_file(str(tmp), self._bucket_prefix[0], self._object(key))
                self._remember(final, key)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Write `key` only if it does not exist yet, atomically (a claim); False when it exists."""
        if self.is_s3:
            from botocore.exceptions import ClientError

            try:
                self._s3.put_object(Bucket=self._bucket_prefix[0], Key=self._object(key), Body=data, IfNoneMatch="*")
                return True
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                    return False
                raise
        path = self.base.joinpath(*check_key(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a temporary file, then hard-linked into place: the link fails if the key
        # exists, and a reader never sees the key before its content.
        fd, tmp = _temp_file(path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def claim(self, key: str, stale_after_s: float) -> str | None:
        """Take the claim `key` atomically (create_exclusive): its holder's token, or None while
        someone else holds it. A claim older than `stale_after_s` (its holder died without
        releasing it) is taken over — by one claimant only: the takeover of that very claim is
        itself an exclusive create, so two that found it stale cannot both delete and retake it."""
        token = uuid.uuid4().hex

        def take() -> str | None:
            return token if self.create_exclusive(key, json.dumps({"at": time.time(), "token": token}).encode()) \
                else None

        if taken := take():
            return taken
        try:
            held = json.loads(self.read_bytes(key))
        except Exception:  # noqa: BLE001 - released just now (claims appear whole): try once more
            return take()
        if time.time() - held["at"] > stale_after_s and \
                self.create_exclusive(_takeover_key(key, held), json.dumps({"key": key, **held}).encode()):
            self.delete(key)
            return take()
        return None

    def release(self, key: str, token: str | None) -> None:
        """Give up the claim `key` if it is still ours (a holder that outlived stale_after_s must
        not delete its successor's claim)."""
        try:
            held = json.loads(self.read_bytes(key))
        except Exception:  # noqa: BLE001 - already gone
            return
        if held.get("token") in (token, None):
            self.delete(key)

    @contextmanager
    def holding(self, key: str, *, wait_s: float, stale_after_s: float) -> Iterator[None]:
        """Hold the claim `key` while inside, waiting up to `wait_s` for it; TimeoutError when it
        stays taken."""
        deadline = time.monotonic() + wait_s
        while not (token := self.claim(key, stale_after_s)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.uri(key)} stayed claimed for {wait_s:g} s")
            time.sleep(0.05)
        try:
            yield
        finally:
            self.release(key, token)

    def copy(self, src_key: str, dst_key: str) -> str:
        """Copy within the store (locally a hard link where possible: same bytes, no space)."""
        if self.is_s3:
            bucket = self._bucket_prefix[0]
            self._s3.copy_object(Bucket=bucket, Key=self._object(dst_key),
                                 CopySource={"Bucket": bucket, "Key": self._object(src_key)})
            return dst_key
        src, dst = self.path(src_key), self.base.joinpath(*check_key(dst_key))
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        return dst_key

    def delete(self, key: str) -> None:
        if self.is_s3:
            self._s3.delete_object(Bucket=self._bucket_prefix[0], Key=self._object(key))
        self.base.joinpath(*check_key(key)).unlink(missing_ok=True)

    # -- S3 local copies ----------------------------------------------------------------------------
    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self._s3.head_object(Bucket=self._bucket_prefix[0], Key=self._object(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _remember(self, local: Path, key: str) -> None:
        head = self._head(key)
        if head:
            local.with_name(local.name + ".etag").write_text(head["ETag"])

    def _fetch(self, key: str, local: Path) -> None:
        head = self._head(key)
        if head is None:
            return  # nothing there (yet): the caller sees a missing file
        marker = local.with_name(local.name + ".etag")
        if local.is_file() and marker.is_file() and marker.read_text() == head["ETag"]:
            return
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp_file(local.parent)
        os.close(fd)
        try:
            self._s3.download_file(self._bucket_prefix[0], self._object(key), str(tmp))
            os.replace(tmp, local)
            marker.write_text(head["ETag"])
        finally:
            Path(tmp).unlink(missing_ok=True)


def _temp_file(folder: Path, suffix: str = "") -> tuple[int, Path]:
    """A new empty file to write beside its key (then renamed over it), open for writing. Its mode
    is what the umask gives, as for any file the process creates (mkstemp's are 0600 whatever the
    umask, so every video would be unreadable to the web server or the group that serves it)."""
    path = folder / f".tmp-{uuid.uuid4().hex}{suffix}"
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path


def _takeover_key(key: str, held: dict) -> str:
    """Where the one takeover of a stale claim is recorded (kept: a late claimant that read the same
    stale claim must still find it taken over)."""
    return takeover_key(key, str(held.get('token') or held['at']))


@lru_cache(maxsize=8)
def _s3_client(endpoint: str | None):
    """One boto3 client per endpoint (they are thread-safe), made by dagster-aws."""
    from dagster_aws.s3 import S3Resource

    return S3Resource(endpoint_url=endpoint).get_client()


def media_store_from_env() -> MediaStore:
    """The media store as configured for this process (VIDEOAGENT_STORAGE, default ./storage)."""
    return MediaStore(root=current().storage)
