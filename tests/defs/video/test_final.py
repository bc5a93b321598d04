"""final_video through the real graph: each shape with a transition, the stream-copy path, the music bed."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.domain.manifests import FinalVideo, ShotClips, Storyboard
from videoagent_dagster.media.probe import probe

from .helpers import check_results, materialize, submit

SHORT = {"duration": 5, "resolution": "180p", "shots": 2}


def _final(store, task):
    return FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))


def _final_metadata(result) -> dict:
    event = result.asset_materializations_for_node("final_video")[0]
    return {k: v.value for k, v in event.metadata.items()}


@pytest.mark.parametrize(("aspect", "size", "transition"), [
    ("16:9", (320, 180), "wipe"),
    ("9:16", (180, 320), "slide"),
    ("1:1", (180, 180), "fade_black"),
])
def test_each_shape_with_a_transition_keeps_its_length(store, instance, aspect, size, transition):
    task = submit(store, instance, "Lighthouses along a stormy coast", aspect=aspect, transition=transition, **SHORT)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values()), check_results(result)
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    assert [s.transition for s in board.shots] == [transition, "cut"] and board.overlaps == [12]
    clips = ShotClips.model_validate_json(store.read_bytes(manifest_key(task, "shot_clips")))
    # The outgoing clip runs half a second (12 frames at 24 fps) past its shot to cover the transition.
    assert [probe(store.path(c.key))["video"]["frames"] for c in clips.clips] == [
        round(board.shots[0].duration * 24) + 12, round(board.shots[1].duration * 24)]
    facts = probe(store.path(_final(store, task).key))
    assert (facts["video"]["width"], facts["video"]["height"]) == size
    assert facts["video"]["frames"] == 5 * 24 and abs(facts["audio"]["duration"] - 5.0) < 0.05
    meta = _final_metadata(result)
    assert meta["composed_by"] == "encode" and meta["transitions"] == transition


def test_soft_subtitles_and_cuts_join_by_stream_copy(store, instance):
    task = submit(store, instance, "Lighthouses along a stormy coast", transition="cut", subtitles="soft", **SHORT)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    meta = _final_metadata(result)
    assert meta["composed_by"] == "stream_copy" and meta["video_encoder"] == "copy"
    video = store.path(_final(store, task).key)
    kinds = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                            str(video)], capture_output=True, text=True, check=True).stdout.split()
    assert kinds == ["video", "audio", "subtitle"]
    assert probe(video)["video"]["frames"] == 5 * 24
    # The default (subtitles burned in) must encode, and says why.
    task = submit(store, instance, "Lighthouses along a stormy coast", transition="cut", **SHORT)
    meta = _final_metadata(materialize(instance, task))
    assert meta["composed_by"] == "encode" and "burned" in meta["why_encoded"]


def test_music_from_the_library_is_laid_under_the_narration(store, instance):
    with store.writing("music/calm tone.flac") as tmp:
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=3",
                        "-ac", "2", str(tmp)], check=True)
    task = submit(store, instance, "Lighthouses along a stormy coast", music="auto", **SHORT)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    assert _final_metadata(result)["music"] == "music/calm tone.flac"
    video = store.path(_final(store, task).key)
    assert probe(video)["audio"]["channels"] == 2
    # The tone plays under the whole video, including its last second, where no one speaks.
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", "4.0", "-i", str(video), "-t", "0.8", "-ac", "1", "-f",
                          "s16le", "-ar", "8000", "-"], capture_output=True, check=True).stdout
    tail = np.frombuffer(raw, np.int16).astype(float)
    spectrum = np.abs(np.fft.rfft(tail))
    assert spectrum[int(330 * len(tail) / 8000)] > 20 * np.median(spectrum)


def test_missing_music_track_fails_the_brief_and_names_the_library(store, instance):
    with store.writing("music/waves.mp3") as tmp:
        tmp.write_bytes(b"not really audio")
    task = submit(store, instance, "Lighthouses along a stormy coast", music="nocturne.mp3", **SHORT)
    result = materialize(instance, task, selection=["video_brief"])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "'nocturne.mp3' is not in the music library" in failure.description
    assert "waves.mp3" in failure.description
