import pytest

from videoagent_dagster.resources.media_store import MediaStore


def test_atomic_writes_and_keys(tmp_path):
    store = MediaStore(root=str(tmp_path / "s"))
    store.write_bytes("tasks/t/a.json", b"{}")
    assert store.read_bytes("tasks/t/a.json") == b"{}"
    with pytest.raises(RuntimeError):
        with store.writing("tasks/t/b.mp4") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder died")
    assert not store.exists("tasks/t/b.mp4")
    assert [p.name for p in (tmp_path / "s/tasks/t").iterdir()] == ["a.json"]  # no temp file left
    for bad in ("../x", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(ValueError):
            store.path(bad)
    store.copy("tasks/t/a.json", "tasks/u/a.json")
    assert store.sha256("tasks/u/a.json") == store.sha256("tasks/t/a.json")
