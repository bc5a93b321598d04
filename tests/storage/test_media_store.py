import pytest

from videoagent_dagster.storage.media_store import MediaStore


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


@pytest.fixture(params=["local", "s3"])
def claims(request, tmp_path):
    """A store to take claims in: a local folder, and a bucket on the loopback S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3")
        return MediaStore(root="s3://videos/claims", cache_dir=str(tmp_path / "cache"))
    return MediaStore(root=str(tmp_path / "s"))


def test_a_dead_holders_claim_is_taken_over_a_live_ones_is_not(claims):
    import json
    import time

    assert claims.claim("ledger/ana/.lock", stale_after_s=60)  # this holder dies without releasing it
    assert not claims.claim("ledger/ana/.lock", stale_after_s=60)  # fresh: the next claimant is refused
    time.sleep(0.6)
    assert not claims.claim("ledger/ana/.lock", stale_after_s=60)  # still younger than 60 s
    before = time.time()
    assert claims.claim("ledger/ana/.lock", stale_after_s=0.5)  # older than stale_after_s: taken over
    assert json.loads(claims.read_bytes("ledger/ana/.lock"))["at"] >= before  # the claim is the new holder's
    assert not claims.claim("ledger/ana/.lock", stale_after_s=60)  # and fresh again
    assert claims.list("ledger") == ["ledger/ana/.lock"]


def test_holding_waits_for_a_live_holder_then_gets_the_claim(claims):
    import threading
    import time

    key = "books/runway/.claim"
    held, released = threading.Event(), []

    def live_holder():
        with claims.holding(key, wait_s=5, stale_after_s=60):
            held.set()
            time.sleep(1.0)
            released.append(time.monotonic())

    holder = threading.Thread(target=live_holder)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="stayed claimed"):
            with claims.holding(key, wait_s=0.2, stale_after_s=60):
                pass
        assert time.monotonic() - started >= 0.2
        with claims.holding(key, wait_s=10, stale_after_s=60):
            assert released and time.monotonic() >= released[0]  # got it only after the holder let go
            assert not claims.claim(key, stale_after_s=60)  # and holds it now
    finally:
        holder.join(10)
    assert not claims.exists(key)  # released on the way out


def test_two_claimants_of_a_stale_claim_do_not_both_get_it(tmp_path, monkeypatch):
    import json
    import time

    store = MediaStore(root=str(tmp_path / "s"))
    store.write_bytes("ledger/ana/.lock", json.dumps({"at": time.time() - 120}).encode())  # its holder died
    real_read, got = MediaStore.read_bytes, {}

    def read_then_let_the_other_in(self, key):
        data = real_read(self, key)
        if "a" not in got:  # b has read the stale claim; before b acts on it, a takes it over
            got["a"] = None
            got["a"] = store.claim("ledger/ana/.lock", stale_after_s=60)
        return data

    monkeypatch.setattr(MediaStore, "read_bytes", read_then_let_the_other_in)
    got["b"] = store.claim("ledger/ana/.lock", stale_after_s=60)
    assert got["a"] and not got["b"], got
