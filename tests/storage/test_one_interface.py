"""One media store interface over a local folder and an S3 bucket: the same calls, the same
results."""



from videoagent_dagster.storage.media_store import LocalFolder, MediaStore, S3Bucket


def _exercise(store: MediaStore) -> list:
    seen = []
    store.write_bytes("a/one.txt", b"1")
    with store.writing("a/two.bin") as tmp:
        tmp.write_bytes(b"22")
    seen.append(store.list("a"))
    seen.append(store.create_exclusive("claims/x", b"x"))
    seen.append(store.create_exclusive("claims/x", b"y"))
    store.copy("a/one.txt", "b/one.txt")
    seen.append((store.read_bytes("b/one.txt"), store.path("a/two.bin").read_bytes()))
    store.delete("a/one.txt")
    seen.append((store.exists("a/one.txt"), store.exists("b/one.txt"), store.list()))
    token = store.claim("claims/y", stale_after_s=60)
    seen.append((bool(token), store.claim("claims/y", stale_after_s=60)))
    store.release("claims/y", token)
    seen.append(store.exists("claims/y"))
    return seen


def test_local_and_s3_behave_alike(s3, tmp_path):
    local = MediaStore(root=str(tmp_path / "local"))
    bucket = MediaStore(root="s3://videos/alike", cache_dir=str(tmp_path / "cache"))
    assert isinstance(local.storage, LocalFolder) and isinstance(bucket.storage, S3Bucket)
    assert _exercise(local) == _exercise(bucket)
    assert bucket.uri("a/two.bin") == "s3://videos/alike/a/two.bin"


def test_copying_onto_a_link_of_itself_leaves_nothing_behind(tmp_path):
    store = MediaStore(root=str(tmp_path))
    store.write_bytes("a/x.bin", b"x")
    store.copy("a/x.bin", "b/x.bin")
    store.copy("a/x.bin", "b/x.bin")  # b/x.bin is already a hard link to a/x.bin
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["x.bin"]


def test_touch_renews_an_s3_object_at_most_once_a_day(s3, tmp_path, monkeypatch):
    """Retention ages the cache by last use; S3 has no utime, so touch copies an object onto itself
    (its bytes and metadata kept) — only when it was last written more than a day ago."""
    import time
    import types

    from videoagent_dagster.storage import media_store

    store = MediaStore(root="s3://videos/renew", cache_dir=str(tmp_path / "cache"))
    store.write_bytes("cache/ab/clip.mp4", b"clip bytes")
    s3.copy_object(Bucket="videos", Key="renew/cache/ab/clip.mp4", MetadataDirective="REPLACE",
                   CopySource={"Bucket": "videos", "Key": "renew/cache/ab/clip.mp4"}, Metadata={"cost-usd": "0.25"})
    [(_, _, written)] = store.entries("cache")
    time.sleep(1.1)  # S3 times are in whole seconds
    store.touch("cache/ab/clip.mp4")  # written a second ago: left as it is
    assert store.entries("cache")[0][2] == written
    two_days_on = time.time() + 2 * 86400
    with monkeypatch.context() as later:
        later.setattr(media_store, "time", types.SimpleNamespace(time=lambda: two_days_on))
        store.touch("cache/ab/clip.mp4")
    [(key, size, renewed)] = store.entries("cache")
    assert (key, size) == ("cache/ab/clip.mp4", len(b"clip bytes")) and renewed > written
    assert store.read_bytes("cache/ab/clip.mp4") == b"clip bytes"
    head = s3.head_object(Bucket="videos", Key="renew/cache/ab/clip.mp4")
    assert head["Metadata"] == {"cost-usd": "0.25"}
    store.touch("cache/ab/gone.mp4")  # a key that is not there: nothing happens
    assert store.entries("cache") == [("cache/ab/clip.mp4", size, renewed)]

    # Its local copy is kept by a touch (a cache hit reads it next), and goes when the object is deleted.
    local = store.path("cache/ab/clip.mp4")
    store.touch("cache/ab/clip.mp4")
    assert local.read_bytes() == b"clip bytes"
    store.delete("cache/ab/clip.mp4")
    assert not local.exists() and store.entries("cache") == []
