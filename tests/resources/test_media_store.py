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


def test_s3_store_round_trip(s3, tmp_path):
    store = MediaStore(root="s3://videos/prod", cache_dir=str(tmp_path / "cache"))
    store.write_bytes("tasks/t/a.json", b'{"a": 1}')
    assert s3.get_object(Bucket="videos", Key="prod/tasks/t/a.json")["Body"].read() == b'{"a": 1}'
    assert store.exists("tasks/t/a.json") and not store.exists("tasks/t/missing.json")
    assert store.read_bytes("tasks/t/a.json") == b'{"a": 1}'
    assert store.uri("tasks/t/a.json") == "s3://videos/prod/tasks/t/a.json"
    with pytest.raises(RuntimeError):
        with store.writing("tasks/t/b.mp4") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder died")
    assert not store.exists("tasks/t/b.mp4")
    store.copy("tasks/t/a.json", "tasks/u/a.json")
    assert store.list("tasks") == ["tasks/t/a.json", "tasks/u/a.json"]
    # Another process (another cache folder) reads a local copy of the object.
    other = MediaStore(root="s3://videos/prod", cache_dir=str(tmp_path / "other"))
    assert other.path("tasks/u/a.json").read_bytes() == b'{"a": 1}'
    s3.put_object(Bucket="videos", Key="prod/tasks/u/a.json", Body=b'{"a": 2}')
    assert other.path("tasks/u/a.json").read_bytes() == b'{"a": 2}'  # a changed object is fetched again
