"""Fixtures shared by the provider tests."""

import pytest

from videoagent_dagster.domain.styles import CATALOGUE


@pytest.fixture
def frame_key(store):
    """A first frame in the test's media store, for the video providers to animate."""
    from videoagent_dagster.media.frames import render_frame
    key = "tasks/t/frames/shot_001.png"
    with store.writing(key) as tmp:
        render_frame(tmp, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="wide",
                     title="x", label="y", seed=1)
    return key
