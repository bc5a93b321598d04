"""Shared fixtures: a private media store and Dagster instance per test, and a video provider
that can be told to fail on chosen shots (for the re-materialise tests)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.offline import OfflineCamera
from videoagent_dagster.providers.video import VideoProvider
from videoagent_dagster.storage.media_store import MediaStore

TINY = {"duration": 6, "resolution": "180p", "shots": 3}


@register("video", "flaky", "offline-camera-with-faults")
@dataclass
class FlakyCamera(VideoProvider):
    """The offline camera, counting its calls and failing for the shots listed in FAIL_SHOTS."""

    FAIL_SHOTS: set[str] = None  # type: ignore[assignment]
    CALLS: list[str] = None  # type: ignore[assignment]
    _lock = threading.Lock()

    def animate(self, request, frame, out, book=None):
        shot = Path(request.frame_key).stem
        with self._lock:
            FlakyCamera.CALLS.append(shot)
        if shot in FlakyCamera.FAIL_SHOTS:
            raise RuntimeError(f"injected fault on {shot}")
        return OfflineCamera(model="ffmpeg-camera-1").animate(request, frame, out)


FlakyCamera.FAIL_SHOTS, FlakyCamera.CALLS = set(), []


@pytest.fixture
def flaky_camera(monkeypatch):
    FlakyCamera.FAIL_SHOTS.clear()
    FlakyCamera.CALLS.clear()
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "flaky")
    yield FlakyCamera
    FlakyCamera.FAIL_SHOTS.clear()


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Run from an empty folder, so ./storage and ./.dagster_home land inside the test's tmp dir."""
    monkeypatch.chdir(tmp_path)
    for var in ("VIDEOAGENT_STORAGE", "VIDEOAGENT_LLM", "VIDEOAGENT_IMAGE", "VIDEOAGENT_VIDEO", "VIDEOAGENT_TTS",
                "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def store(workdir) -> MediaStore:
    return MediaStore(root=str(workdir / "storage"))


@pytest.fixture
def instance(workdir):
    home = workdir / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def vendors(monkeypatch):
    """The loopback vendor server, with every SDK pointed at it."""
    from .fakes.vendors import FakeVendors

    fake = FakeVendors().start()
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "openai=0/0,anthropic=0/0,runway=0/0,veo=0/0,fal=0/0")
    yield fake
    fake.stop()


@pytest.fixture
def s3(monkeypatch, tmp_path):
    """A loopback S3 server (moto's server mode) with a bucket, and the AWS variables pointing at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import urllib.request
    # moto keeps its state per process, across servers: start each test from an empty S3.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for k, v in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    from videoagent_dagster.storage.media_store import _s3_client
    _s3_client.cache_clear()
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="videos")
    yield client
    server.stop()
    _s3_client.cache_clear()


@register("video", "black-first", "test")
@dataclass
class BlackFirstCamera(VideoProvider):
    """Returns a black clip on a shot's first attempt, a good one after: quality control must catch it."""

    def animate(self, request, frame, out, book=None):
        import subprocess
        if request.attempt == 0:
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"color=black:size={request.width}x{request.height}:rate={request.fps}",
                            "-frames:v", str(request.frames), "-c:v", "libx264", "-preset", "ultrafast",
                            "-pix_fmt", "yuv420p", "-f", "mp4", str(out)], check=True)
            return {}
        return OfflineCamera(model="ffmpeg-camera-1").animate(request, frame, out)
