"""The media store: where every frame, clip, voice line, video and cached provider result lives.

One interface (MediaStore, the resource every stage uses) over two kinds of storage, each a small
class: a local folder (default `./storage`) and an S3 bucket/prefix (`s3://bucket/prefix`; MinIO
or any S3-compatible endpoint through VIDEOAGENT_S3_ENDPOINT or AWS_ENDPOINT_URL, via dagster-aws).
Media tools need files, so on S3 `path()` gives a local copy (downloaded once per object version)
and `writing()` uploads what was written. Writes are atomic: an object appears complete or not at
all. Files get the mode the process's umask gives (0644 under the usual 022), so a web server or
another user can serve them.
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
from typing import Protocol

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


def _temp_beside(path: Path) -> Path:
    """A new, empty temporary file in `path`'s folder (so a rename into place is atomic), created
    as open() creates files — mode 0666 less the umask — where mkstemp would give 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:12]}{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


class Storage(Protocol):
    """What a kind of storage does; MediaStore builds everything else (atomic writes, claims,
    hashes) on these."""

    base: Path  # local files: the folder itself, or (S3) where objects are copied to be worked on

    def uri(self, key: str) -> str: ...
    def fetch(self, key: str, local: Path) -> None: ...  # make `local` the object's current copy
    def exists(self, key: str) -> bool: ...
    def read_bytes(self, key: str) -> bytes: ...
    def list(self, prefix: str) -> list[str]: ...
    def entries(self, prefix: str) -> list[tuple[str, int, float]]: ...  # (key, bytes, modified epoch s)
    def publish(self, key: str, written: Path, final: Path) -> None: ...  # a finished file becomes `key`
    def create_exclusive(self, key: str, data: bytes) -> bool: ...
    def copy(self, src_key: str, dst_key: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def touch(self, key: str) -> None: ...  # mark an object used now (retention ages the cache by it)
    def presigned_url(self, key: str, expires_s: int) -> str | None: ...  # None: serve the bytes yourself


class LocalFolder:
    def __init__(self, base: Path):
        self.base = base

    def _file(self, key: str) -> Path:
        return self.base.joinpath(*check_key(key))

    def uri(self, key: str) -> str:
        return str(self._file(key))

    def fetch(self, key: str, local: Path) -> None:
        pass  # the file is the object

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._file(key).read_bytes()

    def list(self, prefix: str) -> list[str]:
        folder = self.base.joinpath(*check_key(prefix)) if prefix else self.base
        return sorted(p.relative_to(self.base).as_posix() for p in folder.rglob("*")
                      if p.is_file() and not p.name.startswith(".tmp-")) if folder.is_dir() else []

    def entries(self, prefix: str) -> list[tuple[str, int, float]]:
        out = []
        for key in self.list(prefix):
            st = self._file(key).stat()
            out.append((key, st.st_size, st.st_mtime))
        return out

    def publish(self, key: str, written: Path, final: Path) -> None:
        os.replace(written, final)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        # Written whole to a temporary file, then hard-linked into place: the link fails if the key
        # exists, and a reader never sees the key before its content.
        path = self._file(key)
        tmp = _temp_beside(path)
        try:
            tmp.write_bytes(data)
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def copy(self, src_key: str, dst_key: str) -> None:
        """A hard link where possible: same bytes, no space."""
        src, dst = self._file(src_key), self._file(dst_key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{dst.name}")
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        try:
            os.replace(tmp, dst)  # (does nothing when dst is already a link to src)
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def touch(self, key: str) -> None:
        try:
            os.utime(self._file(key))
        except FileNotFoundError:
            pass

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        return None  # a folder has no URL of its own: the gateway serves it


class S3Bucket:
    def __init__(self, root: str, endpoint: str | None, cache_dir: str | None):
        bucket, _, prefix = root[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"VIDEOAGENT_STORAGE={root!r}: name a bucket, as s3://bucket/prefix")
        self.bucket, self.prefix, self.endpoint = bucket, prefix.strip("/"), endpoint
        cache = Path(cache_dir or Path(tempfile.gettempdir()) / "videoagent-s3")
        self.base = cache.joinpath(bucket, *PurePosixPath(self.prefix).parts)

    @property
    def _s3(self):
        return _s3_client(self.endpoint)

    def _object(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object(key)}"

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self._s3.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def fetch(self, key: str, local: Path) -> None:
        head = self._head(key)
        if head is None:
            return  # nothing there (yet): the caller sees a missing file
        marker = local.with_name(local.name + ".etag")
        if local.is_file() and marker.is_file() and marker.read_text() == head["ETag"]:
            return
        tmp = _temp_beside(local)
        try:
            self._s3.download_file(self.bucket, self._object(key), str(tmp))
            os.replace(tmp, local)
            marker.write_text(head["ETag"])
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def read_bytes(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=self._object(key))["Body"].read()

    def list(self, prefix: str) -> list[str]:
        full = (self._object(prefix).rstrip("/") + "/") if prefix else (f"{self.prefix}/" if self.prefix else "")
        skip = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
            keys += [o["Key"][skip:] for o in page.get("Contents", [])]
        return sorted(keys)

    def entries(self, prefix: str) -> list[tuple[str, int, float]]:
        full = (self._object(prefix).rstrip("/") + "/") if prefix else (f"{self.prefix}/" if self.prefix else "")
        skip = len(self.prefix) + 1 if self.prefix else 0
        out = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
            out += [(o["Key"][skip:], o["Size"], o["LastModified"].timestamp()) for o in page.get("Contents", [])]
        return sorted(out)

    def publish(self, key: str, written: Path, final: Path) -> None:
        self._s3.upload_file(str(written), self.bucket, self._object(key))
        head = self._head(key)
        os.replace(written, final)  # the local copy, known current by its ETag
        if head:
            final.with_name(final.name + ".etag").write_text(head["ETag"])

    def create_exclusive(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, IfNoneMatch="*")
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise

    def copy(self, src_key: str, dst_key: str) -> None:
        self._s3.copy_object(Bucket=self.bucket, Key=self._object(dst_key),
                             CopySource={"Bucket": self.bucket, "Key": self._object(src_key)})

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=self._object(key))
        self.base.joinpath(*check_key(key)).unlink(missing_ok=True)  # and its local copy

    def touch(self, key: str) -> None:
        # S3 has no utime: an object copied onto itself is written anew. Done at most once a day an
        # object (a cache hit in every run would otherwise copy it every time).
        head = self._head(key)
        if head is not None and time.time() - head["LastModified"].timestamp() > 86400:
            self._s3.copy_object(Bucket=self.bucket, Key=self._object(key), MetadataDirective="REPLACE",
                                 CopySource={"Bucket": self.bucket, "Key": self._object(key)},
                                 Metadata=head.get("Metadata", {}))

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        return self._s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": self._object(key)},
                                               ExpiresIn=expires_s)


def storage_for(root: str, endpoint: str | None, cache_dir: str | None) -> Storage:
    if root.startswith("s3://"):
        return _bucket(root, endpoint, cache_dir)
    return LocalFolder(Path(root).expanduser().resolve())  # resolved now: a relative root follows the cwd


@lru_cache(maxsize=32)
def _bucket(root: str, endpoint: str | None, cache_dir: str | None) -> S3Bucket:
    return S3Bucket(root, endpoint, cache_dir)


class MediaStore(dg.ConfigurableResource):
    """Media under stable keys such as `tasks/{task}/clips/shot_001.mp4`."""

    root: str = DEFAULT_ROOT
    endpoint_url: str | None = None  # S3-compatible endpoint; default: VIDEOAGENT_S3_ENDPOINT / AWS_ENDPOINT_URL
    cache_dir: str | None = None  # where S3 objects are copied to be worked on; default: a temp folder

    @property
    def storage(self) -> Storage:
        endpoint = (self.endpoint_url or current().s3_endpoint_url()) if self.is_s3 else None
        return storage_for(self.root, endpoint, self.cache_dir)

    # -- where things are -------------------------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.root.startswith("s3://")

    @property
    def base(self) -> Path:
        """The local folder (for S3: the local copies of objects)."""
        return self.storage.base

    def path(self, key: str) -> Path:
        """A local file for a key (on S3, a fresh local copy when the object exists)."""
        local = self.base.joinpath(*check_key(key))
        self.storage.fetch(key, local)
        return local

    def uri(self, key: str) -> str:
        return self.storage.uri(key)

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        """A URL anyone can GET the object from for expires_s (S3), or None (a local folder)."""
        check_key(key)
        return self.storage.presigned_url(key, expires_s)

    # -- reading ------------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    def read_bytes(self, key: str) -> bytes:
        return self.storage.read_bytes(key)

    def list(self, prefix: str = "") -> list[str]:
        """Keys under a folder-like prefix (`ledger/20261128/ana`; '' for all), sorted."""
        return self.storage.list(prefix)

    def touch(self, key: str) -> None:
        """Mark `key` as used now (retention keeps cache entries by their last use)."""
        self.storage.touch(key)

    def entries(self, prefix: str = "") -> list[tuple[str, int, float]]:
        """(key, size in bytes, when last written: epoch seconds) under a prefix, sorted by key."""
        return self.storage.entries(prefix)

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
        tmp = _temp_beside(final)
        try:
            yield tmp
            if not tmp.exists() or tmp.stat().st_size == 0:
                raise RuntimeError(f"nothing was written for {key}")
            self.storage.publish(key, tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Write `key` only if it does not exist yet, atomically (a claim); False when it exists."""
        return self.storage.create_exclusive(key, data)

    def copy(self, src_key: str, dst_key: str) -> str:
        """Copy within the store."""
        self.storage.copy(src_key, dst_key)
        return dst_key

    def delete(self, key: str) -> None:
        self.storage.delete(key)

    # -- claims -------------------------------------------------------------------------------------
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


def _takeover_key(key: str, held: dict) -> str:
    """Where the one takeover of a stale claim is recorded (kept: a late claimant that read the same
    stale claim must still find it taken over)."""
    return takeover_key(key, str(held.get("token") or held["at"]))


@lru_cache(maxsize=8)
def _s3_client(endpoint: str | None):
    """One boto3 client per endpoint (they are thread-safe), made by dagster-aws."""
    from dagster_aws.s3 import S3Resource

    return S3Resource(endpoint_url=endpoint).get_client()


def media_store_from_env() -> MediaStore:
    """The media store as configured for this process (VIDEOAGENT_STORAGE, default ./storage)."""
    return MediaStore(root=current().storage)
