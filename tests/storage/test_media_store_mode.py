"""Files in the media store get the mode the umask gives, as any file the process makes: a web
server or a group serving the videos can read them (temporary files alone would be 0600)."""

import os
import stat
from contextlib import contextmanager

import pytest

from videoagent_dagster.storage.media_store import MediaStore


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, wanted", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_take_the_umasks_mode(tmp_path, mask, wanted):
    store = MediaStore(root=str(tmp_path / "s"))
    with umask(mask):
        store.write_bytes("tasks/t/a.json", b"{}")
        with store.writing("tasks/t/final/t.mp4") as tmp:
            tmp.write_bytes(b"video")
        assert store.create_exclusive("claims/t", b"mine")
        store.copy("tasks/t/a.json", "tasks/u/a.json")
    for key in ("tasks/t/a.json", "tasks/t/final/t.mp4", "claims/t", "tasks/u/a.json"):
        assert _mode(store.path(key)) == wanted, (key, oct(_mode(store.path(key))))


def test_local_copies_of_s3_objects_take_the_umasks_mode(s3, tmp_path):
    MediaStore(root="s3://videos/prod", cache_dir=str(tmp_path / "one")).write_bytes("tasks/t/a.mp4", b"video")
    with umask(0o022):
        copy = MediaStore(root="s3://videos/prod", cache_dir=str(tmp_path / "other")).path("tasks/t/a.mp4")
    assert copy.read_bytes() == b"video" and _mode(copy) == 0o644
