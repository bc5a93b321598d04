"""The whole graph on real ffmpeg, espeak-ng and Dagster, on tiny outputs; then the file is probed."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.domain.manifests import (
    Cast,
    FinalVideo,
    FirstFrames,
    Narration,
    ReferenceSheets,
    Storyboard,
)
from videoagent_dagster.media.probe import probe

from ...conftest import TINY
from ...media.clips import x264_options
from .helpers import check_results, materialize, submit


def manifest(store, task, asset, model):
    return model.model_validate_json(store.read_bytes(manifest_key(task, asset)))


def test_topic_becomes_a_narrated_subtitled_video(store, instance):
    task = submit(store, instance, "A documentary about wildlife in Africa", **TINY)
    result = materialize(instance, task)
    assert result.success
    assert all(check_results(result).values()), check_results(result)

    final = manifest(store, task, "final_video", FinalVideo)
    video = Path(final.uri)
    assert video == store.path(f"tasks/{task}/final/{task}.mp4")
    facts = probe(video)
    assert (facts["video"]["width"], facts["video"]["height"]) == (320, 180)
    assert facts["video"]["codec"] == "h264" and facts["video"]["fps"] == 24
    assert facts["audio"]["codec"] == "aac"
    assert abs(facts["duration"] - 6.0) < 0.1
    # faststart: the index (moov) comes before the media data (mdat).
    head = video.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))

    # The media the design lays out is all there.
    for i in (1, 2, 3):
        for kind, ext in (("frames", "png"), ("clips", "mp4"), ("audio", "wav")):
            assert store.exists(f"tasks/{task}/{kind}/shot_{i:03d}.{ext}")
    assert Image.open(store.path(f"tasks/{task}/final/thumbnail.jpg")).size == (320, 180)
    srt = store.path(f"tasks/{task}/final/subtitles.srt").read_text()
    assert "-->" in srt and "Africa" in srt

    board = manifest(store, task, "storyboard", Storyboard)
    assert [s.camera_movement for s in board.shots] != ["static"] * 3
    assert final.style == "documentary" and final.shots == 3

    # The cast offline: the topic's words, each with a reference card; every shot names who it shows.
    cast = manifest(store, task, "cast", Cast)
    assert [(m.id, m.kind) for m in cast.members] == [("wildlife", "character"), ("africa", "place")]
    refs = manifest(store, task, "reference_sheets", ReferenceSheets)
    assert [Image.open(store.path(r.key)).size for r in refs.images] == [(768, 768)] * 2
    assert all(s.cast and set(s.cast) <= {"wildlife", "africa"} for s in board.shots)
    # Offline nothing looks at the frames: they are recorded as not judged, not as passed.
    frames = manifest(store, task, "first_frames", FirstFrames)
    assert [f.score for f in frames.frames] == [None] * 3 and all(f.reason.startswith("not judged") for f in frames.frames)
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["frames_show_their_shots"]
    assert check.metadata["lowest_score"].value == "not judged" and check.metadata["not_judged"].value == 3

    # The subtitles are burned in: the bottom band of a frame during narration differs from the
    # same band of the clip, which has no subtitles.
    assert _bottom_band_differs(video, store.path(f"tasks/{task}/clips/shot_001.mp4"), at=0.5)


def _frame(video: Path, at: float) -> np.ndarray:
    import subprocess
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(video), "-frames:v", "1", "-f",
                          "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    w, h = probe(video)["video"]["width"], probe(video)["video"]["height"]
    return np.frombuffer(raw, np.uint8).reshape(h, w).astype(int)


def _bottom_band_differs(final: Path, clip: Path, at: float) -> bool:
    a, b = _frame(final, at), _frame(clip, at)
    band = slice(int(a.shape[0] * 0.75), a.shape[0])
    return np.abs(a[band] - b[band]).max() > 100


def test_chinese_topic_end_to_end(store, instance):
    task = submit(store, instance, "非洲草原上的野生动物", **TINY)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    narration = manifest(store, task, "narration", Narration)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in ln.text) for ln in narration.lines)
    brief = json.loads(store.read_bytes(manifest_key(task, "video_brief")))
    assert brief["language"] == "zh"
    srt = store.path(f"tasks/{task}/final/subtitles.srt").read_text(encoding="utf-8")
    assert "非洲" in srt
    assert probe(store.path(f"tasks/{task}/final/{task}.mp4"))["audio"] is not None


def test_japanese_topic_end_to_end(store, instance):
    task = submit(store, instance, "京都の古い寺についてのドキュメンタリー", **TINY)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    brief = json.loads(store.read_bytes(manifest_key(task, "video_brief")))
    assert brief["language"] == "ja"
    narration = manifest(store, task, "narration", Narration)
    kana = [any("\u3041" <= c <= "\u30ff" for c in ln.text) for ln in narration.lines]
    assert all(kana) and all(" " not in ln.text for ln in narration.lines), [ln.text for ln in narration.lines]
    assert all(ln.audio_key and ln.speech_duration > 0.5 for ln in narration.lines)
    srt = store.path(f"tasks/{task}/final/subtitles.srt").read_text(encoding="utf-8")
    assert "京都の古い寺" in srt
    assert probe(store.path(f"tasks/{task}/final/{task}.mp4"))["audio"] is not None


def test_no_audio_when_not_asked(store, instance):
    task = submit(store, instance, "futuristic cityscape at night", include_audio=False, aspect="9:16",
                  resolution="180p", duration=5, shots=2)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    facts = probe(store.path(f"tasks/{task}/final/{task}.mp4"))
    assert facts["audio"] is None
    assert (facts["video"]["width"], facts["video"]["height"]) == (180, 320)
    assert manifest(store, task, "narration", Narration).track_key is None


def test_narration_lines_start_with_their_shots(store, instance):
    task = submit(store, instance, "How bees make honey", **TINY)
    assert materialize(instance, task).success
    narration = manifest(store, task, "narration", Narration)
    with wave.open(str(store.path(narration.track_key))) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(int)
    for line in narration.lines:
        start = int(line.start * rate)
        window = np.abs(samples[start:start + rate])
        onset = np.argmax(window > 500) / rate
        assert window.max() > 500, f"shot {line.shot} is silent"
        assert onset < 0.1 + 0.05, f"shot {line.shot}: speech starts {onset:.3f} s after its shot"  # espeak lead-in
        # and nothing of the previous line spills into this shot's first moment
        assert np.abs(samples[start:start + int(0.005 * rate)]).max() < 500 or onset == 0


def test_rematerialising_a_failed_asset_redoes_only_the_failed_shot(store, instance, flaky_camera):
    task = submit(store, instance, "The history of the bicycle", duration=10, resolution="180p", shots=5)
    flaky_camera.FAIL_SHOTS.add("shot_003")
    first = materialize(instance, task)
    assert not first.success
    failure = next(e for e in first.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "shot_clips"
    assert "shot 3" in failure.step_failure_data.user_failure_data.description
    assert sorted(flaky_camera.CALLS) == ["shot_001", "shot_002", "shot_003", "shot_004", "shot_005"]

    flaky_camera.FAIL_SHOTS.clear()
    flaky_camera.CALLS.clear()
    # As from the UI: re-materialise shot_clips and what follows, with no config at all.
    again = materialize(instance, task, selection="shot_clips*")
    assert again.success, [e.message for e in again.all_events if e.is_failure]
    assert flaky_camera.CALLS == ["shot_003"]
    assert probe(store.path(f"tasks/{task}/final/{task}.mp4"))["duration"] == pytest.approx(10, abs=0.1)

    # A full re-run is served from the cache: no provider call at all.
    flaky_camera.CALLS.clear()
    assert materialize(instance, task).success
    assert flaky_camera.CALLS == []


def test_brief_from_launchpad_config_is_validated_and_stored(store, instance):
    task = "20261128-launchpad-0001"
    instance.add_dynamic_partitions("video_tasks", [task])
    config = {"ops": {"video_brief": {"config": {"topic": "A vintage look at old trains", "duration": 5,
                                                 "resolution": "180p", "shots": 2, "style": "vintag"}}}}
    result = materialize(instance, task, selection="video_brief", run_config=config)
    assert result.success
    stored = json.loads(store.read_bytes(f"briefs/{task}.json"))
    assert stored["topic"] == "A vintage look at old trains"
    brief = json.loads(store.read_bytes(manifest_key(task, "video_brief")))
    assert brief["style"] == "vintage" and "closest" in brief["style_warning"]

    # Downstream assets need no config: materialise the rest as the UI would.
    assert materialize(instance, task, selection="style_profile*").success
    assert store.exists(f"tasks/{task}/final/{task}.mp4")


def test_bad_launchpad_brief_fails_clearly_and_writes_nothing(store, instance):
    task = "20261128-badbrief-0001"
    instance.add_dynamic_partitions("video_tasks", [task])
    config = {"ops": {"video_brief": {"config": {"topic": "ok topic", "duration": 9999}}}}
    result = materialize(instance, task, selection="video_brief", run_config=config)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "options.duration: 9999" in failure.step_failure_data.user_failure_data.description
    assert not store.exists(f"briefs/{task}.json")
    assert not store.exists(manifest_key(task, "video_brief"))


def test_a_task_without_a_brief_says_how_to_give_one(store, instance):
    task = "20261128-nobrief-0001"
    instance.add_dynamic_partitions("video_tasks", [task])
    result = materialize(instance, task, selection="video_brief")
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "No brief for task" in failure.step_failure_data.user_failure_data.description


def test_whole_graph_on_s3(s3, workdir, instance, monkeypatch):
    from videoagent_dagster.storage.media_store import MediaStore

    monkeypatch.setenv("VIDEOAGENT_STORAGE", "s3://videos/videoagent")
    store = MediaStore(root="s3://videos/videoagent", cache_dir=str(workdir / "reader"))
    task = submit(store, instance, "Tide pools at dawn", **TINY)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    key = f"videoagent/tasks/{task}/final/{task}.mp4"
    head = s3.head_object(Bucket="videos", Key=key)
    assert head["ContentLength"] > 10_000
    final = manifest(store, task, "final_video", FinalVideo)
    assert final.uri == f"s3://videos/{key}"
    assert abs(probe(store.path(final.key))["duration"] - 6.0) < 0.1


def test_editor_export_parses_back_with_the_same_cut(store, instance):
    import opentimelineio as otio

    from videoagent_dagster.domain.manifests import EditorExport

    task = submit(store, instance, "Windmills of the lowlands", **TINY)
    assert materialize(instance, task).success
    export = manifest(store, task, "editor_export", EditorExport)
    board = manifest(store, task, "storyboard", Storyboard)
    wanted = [round(s.duration * board.fps) for s in board.shots]
    for key in (export.otio_key, export.fcp_xml_key, export.edl_key):
        timeline = otio.adapters.read_from_file(str(store.path(key)))
        clips = list(timeline.video_tracks()[0].find_clips())
        assert [c.name for c in clips] == ["shot_001", "shot_002", "shot_003"], key
        assert [c.duration().to_frames() for c in clips] == wanted, key
        # The documentary style crossfades: each join is a transition of the storyboard's overlap.
        transitions = [t for t in timeline.video_tracks()[0] if isinstance(t, otio.schema.Transition)]
        assert [t.out_offset.to_frames() for t in transitions] == board.overlaps == [12, 12], key
    timeline = otio.adapters.read_from_file(str(store.path(export.otio_key)))
    assert Path(timeline.video_tracks()[0].find_clips()[0].media_reference.target_url[7:]).exists()
    assert len(timeline.audio_tracks()[0].find_clips()) == 3 and timeline.video_tracks()[0].markers


def test_a_black_clip_is_caught_and_made_again(store, instance, monkeypatch):
    from videoagent_dagster.domain.manifests import ShotClips

    monkeypatch.setenv("VIDEOAGENT_VIDEO", "black-first")
    task = submit(store, instance, "Lanterns over the river", duration=5, resolution="180p", shots=2)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    clips = manifest(store, task, "shot_clips", ShotClips)
    for clip in clips.clips:
        assert [a["attempt"] for a in clip.attempts] == [1, 2]
        assert clip.attempts[0]["verdict"].startswith("black") and clip.attempts[1]["verdict"] == "ok"


def test_clips_are_encoded_for_speed_only_when_the_final_encodes_them_again(store, instance):
    from videoagent_dagster.domain.manifests import ShotClips

    short = {"duration": 5, "resolution": "180p", "shots": 2, "subtitles": "soft"}
    keys = []
    for transition, method in (("cut", "stream_copy"), ("crossfade", "encode")):
        task = submit(store, instance, "Lighthouses along a stormy coast", transition=transition, **short)
        result = materialize(instance, task)
        assert result.success and all(check_results(result).values()), check_results(result)
        meta = result.asset_materializations_for_node("final_video")[0].metadata
        assert meta["composed_by"].value == method
        clips = manifest(store, task, "shot_clips", ShotClips)
        # A stream-copied final is its clips: they keep veryfast. Blended, they are encoded again: ultrafast.
        assert [b"cabac=0" in x264_options(store.path(c.key)) for c in clips.clips] == [method == "encode"] * 2
        assert [[a["verdict"] for a in c.attempts] for c in clips.clips] == [["ok"], ["ok"]]
        keys.append({c.call.cache_key for c in clips.clips})
    assert not keys[0] & keys[1]  # the faster clips are cached apart from the others
