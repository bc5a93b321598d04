"""Offline frames show what the shot is about: words matched to emoji, drawn by shot type."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media import pictograms
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.pictograms import compose, emoji_font_path, pictograms_for


@pytest.mark.parametrize("text,wanted", [
    ("Establishing shot of wildlife in Africa at first light", ["🦁", "🐘"]),
    ("How bees make honey", ["🐝"]),            # a plural of an emoji's name
    ("Bicycles of Amsterdam", ["🚲"]),           # an alias (bike) and its plural
    ("未来城市的一天", ["🏙️"]),                  # Chinese: a topic word
    ("草原上的狮子和大象", ["🦁", "🐘"]),         # Chinese: emoji names (狮子, 大象)
    ("京都の秋の紅葉", ["🍁"]),                   # Japanese
])
def test_words_name_their_pictograms(text, wanted):
    found = pictograms_for(text)
    assert all(w in found for w in wanted), found


def test_words_that_are_only_framing_draw_nothing():
    assert pictograms_for("Wide shot, the bigger picture, looking ahead, close framing, camera on the whole") == []


@pytest.mark.skipif(emoji_font_path() is None, reason="fonts-noto-color-emoji is not installed (setup-env.sh installs it)")
def test_a_close_up_shows_one_large_and_a_wide_shot_several_small(tmp_path):
    sizes = {}
    for shot_type in ("close_up", "establishing"):
        scene = Image.new("RGBA", (640, 360), (40, 90, 60, 255))
        drawn = compose(scene, pictograms_for("wildlife in Africa"), shot_type, random.Random(1))
        changed = (np.asarray(scene)[..., :3] != (40, 90, 60)).any(axis=2)
        sizes[shot_type] = (drawn, changed.sum(), np.ptp(np.nonzero(changed.any(axis=1))[0]))
    assert sizes["close_up"][0] == 1 and sizes["establishing"][0] == 4
    assert sizes["close_up"][2] > 2 * sizes["establishing"][2]  # one tall figure against small ones

    plain, shown = tmp_path / "plain.png", tmp_path / "shown.png"
    for out, subject in ((plain, ""), (shown, "Close-up of a lion at dawn")):
        render_frame(out, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="close_up",
                     title="x", label="y", seed=4, subject=subject)
    a, b = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (plain, shown))
    assert np.abs(a - b).sum(axis=2).astype(bool).mean() > 0.05  # a lion, where the plain frame has none


def test_without_the_font_frames_are_painted_as_before(tmp_path, monkeypatch):
    monkeypatch.setattr(pictograms, "emoji_font_path", lambda: None)
    pictograms._glyph.cache_clear()
    try:
        scene = Image.new("RGBA", (320, 180), (0, 0, 0, 255))
        assert compose(scene, ["🦁"], "close_up", random.Random(1)) == 0
    finally:
        pictograms._glyph.cache_clear()
