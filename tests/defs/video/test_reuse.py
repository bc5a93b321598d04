"""A re-run keeps what it would make the same (the final cut, the soundtrack, the clips' verdicts)
and makes anew whatever changed or was tampered with; its checks are evaluated either way."""

from __future__ import annotations

import hashlib
import importlib

from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.domain.manifests import FinalVideo, Narration, ShotClips
from videoagent_dagster.media.probe import probe

from .helpers import check_results, materialize, submit

SHORT = {"duration": 5, "resolution": "180p", "shots": 2}


def _meta(result, asset: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()}


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp(path) -> tuple[int, int]:
    """Which file is there: a file made again is a new one (written beside, then moved in). (Not its
    time: a task's clip is a hard link to its cache entry, whose time a cache hit renews.)"""
    st = path.stat()
    return st.st_ino, st.st_size


def _must_not_run(*args, **kwargs):
    raise AssertionError("made or inspected again though nothing changed")


def test_a_re_run_keeps_the_final_made_from_the_same_inputs(store, instance, monkeypatch):
    task = submit(store, instance, "Lighthouses along a stormy coast", transition="crossfade", **SHORT)
    first = materialize(instance, task)
    assert first.success and all(check_results(first).values())
    assert _meta(first, "final_video")["reused"] is False
    video = store.path(FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video"))).key)
    made, stamp = _sha(video), _stamp(video)
    clips = [store.path(c.key) for c in
             ShotClips.model_validate_json(store.read_bytes(manifest_key(task, "shot_clips"))).clips]
    narration = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration")))
    sound = store.path(narration.soundtrack_key)
    kept = {p: _stamp(p) for p in [*clips, sound]}

    # The stage modules (the package's own names are the assets).
    clips_stage, final_stage, narration_stage = (importlib.import_module(f"videoagent_dagster.defs.video.{m}")
                                                 for m in ("clips", "final", "narration"))
    with monkeypatch.context() as m:
        for stage, name in [(clips_stage, "inspect_clip"), (narration_stage, "narration_track"),
                            (narration_stage, "master_soundtrack"), (final_stage, "compose"), (final_stage, "look_at")]:
            m.setattr(stage, name, _must_not_run)
        again = materialize(instance, task)
    assert again.success, again.all_events
    meta = _meta(again, "final_video")
    assert meta["reused"] is True and meta["composed_by"] == "encode"
    assert _sha(video) == made and _stamp(video) == stamp
    # Every check is evaluated again, on what the first run's decoding pass found.
    assert check_results(again) == check_results(first)
    assert {p: _stamp(p) for p in kept} == kept  # the clips and the soundtrack were not made again
    again_narration = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration")))
    assert again_narration.voice_silences == narration.voice_silences

    # Other settings make another video.
    other = materialize(instance, task, selection="final_video",
                        run_config={"ops": {"final_video": {"config": {"crf": 35}}}})
    assert other.success and all(check_results(other).values())
    assert _meta(other, "final_video")["reused"] is False and _sha(video) != made

    # A final that is not what was made is made again, whatever the record says.
    settings = {"ops": {"final_video": {"config": {"crf": 35}}}}
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    mended = materialize(instance, task, selection="final_video", run_config=settings)
    assert mended.success and all(check_results(mended).values())
    assert _meta(mended, "final_video")["reused"] is False
    assert probe(video)["video"]["frames"] == 5 * 24


def test_a_changed_or_tampered_soundtrack_and_clip_are_made_again(store, instance):
    task = submit(store, instance, "Lighthouses along a stormy coast", **SHORT)
    assert materialize(instance, task).success
    narration = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration")))
    sound = store.path(narration.soundtrack_key)
    clip = store.path(ShotClips.model_validate_json(store.read_bytes(manifest_key(task, "shot_clips"))).clips[0].key)
    good_sound, good_clip = _sha(sound), _sha(clip)
    sound.write_bytes(sound.read_bytes()[:1000])
    clip.unlink()  # (a hard link to the cached clip: removed, not overwritten)
    clip.write_bytes(b"not a video")

    again = materialize(instance, task)
    assert again.success and all(check_results(again).values()), check_results(again)
    assert _sha(sound) == good_sound and _sha(clip) == good_clip
    # Made again, they are the same bytes as before: the final made from them is kept.
    assert _meta(again, "final_video")["reused"] is True
