"""Test-only providers, loaded into real Dagster processes with VIDEOAGENT_PLUGINS=tests.plugins.

`controlled` is the offline camera steered by files in $VIDEOAGENT_TEST_CONTROL: `fail-shot_NNN`
makes that shot fail, `hold` makes every shot wait while it exists; each call appends the shot to
`calls.txt` so a test can count them across processes."""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.offline import OfflineCamera
from videoagent_dagster.providers.video import VideoProvider


@register("video", "controlled", "offline-camera")
@dataclass
class ControlledCamera(VideoProvider):
    def animate(self, request, frame, out, book=None):
        control = Path(os.environ["VIDEOAGENT_TEST_CONTROL"])
        shot = Path(request.frame_key).stem
        with (control / "calls.txt").open("a") as f:
            f.write(shot + "\n")
        deadline = time.monotonic() + 300
        while (control / "hold").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if (control / f"fail-{shot}").exists():
            raise RuntimeError(f"injected fault on {shot}")
        return OfflineCamera(model="ffmpeg-camera-1").animate(request, frame, out)
