"""Vendor clients are built once per process and settings — also when every shot asks at once — and
ahead of the first call; a vendor's clip is verified before it is cached, in this process."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from videoagent_dagster.media.verify import ResultInvalid, verify_clip
from videoagent_dagster.providers.chain import parse_chain, warm_up
from videoagent_dagster.providers.openai import openai_client
from videoagent_dagster.providers.runway import runway_client
from videoagent_dagster.providers.vendor_sdk import http_client, shared


def test_many_threads_asking_at_once_build_one_client():
    built = []

    @shared
    def client(name):
        built.append(name)
        time.sleep(0.05)  # as long as building an SSL context takes on a loaded machine
        return object()

    start = threading.Barrier(8)

    def ask(_):
        start.wait()
        return client("runway")

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(ask, range(8)))
    assert built == ["runway"] and all(c is clients[0] for c in clients)
    assert client("openai") is not clients[0] and built == ["runway", "openai"]


@pytest.mark.parametrize("make", [openai_client, runway_client])
def test_every_retries_setting_shares_one_connection_pool(make):
    no_retries, retries = make("k", "http://127.0.0.1:9", 0, 30.0), make("k", "http://127.0.0.1:9", 3, 30.0)
    assert (no_retries.max_retries, retries.max_retries) == (0, 3)
    assert no_retries._client is retries._client  # one httpx client, one SSL context
    assert make("k", "http://127.0.0.1:9", 3, 30.0) is retries
    assert make("k", "http://127.0.0.1:9", 3, 60.0)._client is not retries._client  # other settings, own client


def warmed_up(stage, chain, settings=None):
    """warm_up, waited for."""
    warm_up(stage, chain, settings)
    for thread in [t for t in threading.enumerate() if t.name == f"warm-up-{stage}"]:
        thread.join(30)


def test_warm_up_builds_the_clients_the_first_calls_use(vendors):
    settings = {"max_retries": 2, "timeout_s": 45}
    warmed_up("video", "runway", settings)
    runway = parse_chain("video", "runway", settings)[0]
    built = runway_client.cache_info().misses
    assert runway.client(0) is runway_client(vendors.env()["RUNWAYML_API_SECRET"],
                                             vendors.env()["RUNWAYML_BASE_URL"], 0, 45.0)
    assert runway.client(2).max_retries == 2
    assert runway_client.cache_info().misses == built  # nothing left to build at the first calls
    downloads = http_client.cache_info().misses
    http_client(45.0)
    assert http_client.cache_info().misses == downloads


def test_warm_up_without_a_key_leaves_the_error_to_the_call(monkeypatch, store, frame_key):
    from videoagent_dagster.providers.chain import ProviderError
    from videoagent_dagster.providers.video import ClipRequest, VideoGenResource

    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    warmed_up("video", "runway")
    request = ClipRequest(prompt="p", frame_key=frame_key, frame_sha256="0" * 64, camera_movement="static",
                          frames=24, fps=24, width=320, height=180)
    with pytest.raises(ProviderError, match="RUNWAYML_API_SECRET is not set"):
        VideoGenResource(chain="runway", media_store=store).generate(request)


# -- verify_clip -----------------------------------------------------------------------------------

def _encode(tmp_path, name, *args):
    out = tmp_path / name
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)
    return out


@pytest.fixture
def clip_3s(tmp_path):
    return _encode(tmp_path, "clip.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:d=3", "-c:v", "libx264",
                   "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def test_a_whole_clip_of_the_asked_length_passes(tmp_path, clip_3s):
    verify_clip(clip_3s, 3.0)
    # Streamed MP4 (fragments, no durations in its header), as vendors and the loopback vendor send it.
    fragmented = _encode(tmp_path, "frag.mp4", "-i", str(clip_3s), "-c", "copy", "-movflags",
                         "frag_keyframe+empty_moov", "-f", "mp4")
    verify_clip(fragmented, 3.0)
    with pytest.raises(ResultInvalid, match="the clip lasts 3.00 s; at least 4.00 s was asked"):
        verify_clip(fragmented, 4.0)


def test_a_clip_that_is_not_one_is_rejected_saying_why(tmp_path, clip_3s):
    with pytest.raises(ResultInvalid, match="the clip lasts 3.00 s; at least 5.00 s was asked"):
        verify_clip(clip_3s, 5.0)
    truncated = tmp_path / "truncated.mp4"  # a download cut short: the index at the end never came
    truncated.write_bytes(clip_3s.read_bytes()[:4000])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50)
    for bad in (truncated, empty, garbage):
        with pytest.raises(ResultInvalid, match="the clip does not decode"):
            verify_clip(bad, 1.0)
    sound = _encode(tmp_path, "sound.m4a", "-f", "lavfi", "-i", "sine=d=3")
    with pytest.raises(ResultInvalid, match="the clip has no video stream"):
        verify_clip(sound, 1.0)
