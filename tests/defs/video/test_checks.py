"""The quality checks on real files, each seen failing on a bad input of its kind (and passing a good
control): a line that fell silent, sound that drifts, the wrong format, length or sound, an
undecodable tail, loudness out of range, black and frozen stretches; and the storyboard's length."""

from __future__ import annotations

import random
import subprocess

import pytest

from videoagent_dagster.defs.video.checks import (
    FINAL_VIDEO_CHECKS,
    STRETCHES,
    final_video_checks,
    look_at,
    media_checks,
    storyboard_checks,
)
from videoagent_dagster.domain.brief import validate_brief
from videoagent_dagster.domain.manifests import (
    Narration,
    NarrationLine,
    Shot,
    Storyboard,
)
from videoagent_dagster.media.audio import narration_track
from videoagent_dagster.media.compose import compose
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.speech import speak


def _shot(seconds: float, move: str = "static") -> Shot:
    return Shot(scene=0, title="t", description="d", narration="n", camera_movement=move,
                shot_type="wide", duration=seconds, composition="c", lighting="l", palette=["#000000", "#ffffff"])


def _board(n: int, seconds: float, moves: tuple[str, ...] = ()) -> Storyboard:
    """n shots of `seconds`; static unless `moves` names each shot's camera movement."""
    shots = [_shot(seconds, moves[i] if moves else "static") for i in range(n)]
    return Storyboard(shots=shots, total_duration=n * seconds, width=320, height=180, fps=24, style="nature")


def _narration(n: int, seconds: float, speech: float) -> Narration:
    return Narration(lines=[NarrationLine(shot=i + 1, text="words", start=i * seconds, end=(i + 1) * seconds,
                                          audio_key=f"a/{i}.wav", speech_duration=speech) for i in range(n)],
                     track_key="a/track.wav", subtitles_srt="s.srt", subtitles_ass="s.ass")


def _results(video, board, narration):
    facts = probe(video)
    return {r.check_name: r for r in media_checks(look_at(video, facts), facts, board, narration)}


def _grey(path, seconds):
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=24:d={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _second_line_missing(tmp_path, music=None):
    """A 6 s video of two 3 s shots whose second line of narration is missing: (video, voice track)."""
    line = tmp_path / "line.wav"
    speak("The tide comes in over the flats.", line, language="en")
    voice = tmp_path / "voice.wav"
    narration_track([(line, 3.0), (None, 3.0)], voice)
    video = tmp_path / "v.mp4"
    compose([_grey(tmp_path / "c.mp4", 6)], video, fps=24, width=320, height=180, audio=voice, music=music,
            preset="ultrafast")
    return video, voice


def test_a_line_that_fell_silent_is_caught(tmp_path):
    video, _ = _second_line_missing(tmp_path)
    results = _results(video, _board(2, 3.0), _narration(2, 3.0, speech=1.5))
    assert not results["narration_audible"].passed
    assert "shot 2" in results["narration_audible"].metadata["problems"].value
    assert "shot 1" not in results["narration_audible"].metadata["problems"].value
    assert results["audio_in_sync"].passed


def test_sound_longer_than_the_picture_is_caught(tmp_path):
    clip = _grey(tmp_path / "c.mp4", 3)
    video = tmp_path / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-f", "lavfi", "-i", "sine=frequency=300:duration=4",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(video)], check=True)
    results = _results(video, _board(1, 3.0), _narration(1, 3.0, speech=2.0))
    assert not results["audio_in_sync"].passed
    assert abs(results["audio_in_sync"].metadata["audio_minus_video_s"].value - 1.0) < 0.1
    assert results["narration_audible"].passed


def test_a_missing_line_is_caught_under_a_music_bed(tmp_path):
    from videoagent_dagster.media.detect import silences

    music = tmp_path / "bed.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000:duration=6",
                    str(music)], check=True)
    video, voice = _second_line_missing(tmp_path, music=music)
    narration = _narration(2, 3.0, speech=1.5)
    # The final sound alone cannot tell: the music fills the gap.
    assert _results(video, _board(2, 3.0), narration)["narration_audible"].passed
    narration.voice_silences = silences(voice)
    result = _results(video, _board(2, 3.0), narration)["narration_audible"]
    assert not result.passed and "shot 2" in result.metadata["problems"].value
    assert "silent in the voice" in result.metadata["problems"].value and "shot 1" not in result.metadata["problems"].value


def test_the_stretches_compose_finds_while_encoding_are_what_look_at_finds_in_the_file(tmp_path):
    """compose runs the picture detectors inside its encode; look_at given what they found decodes
    the written file only for its errors and its sound, and finds the same as one full pass."""
    moving = _grey(tmp_path / "moving.mp4", 3)
    # 2 s of black, then a still picture to the end: a black stretch, and a frozen one still open at the end.
    black = tmp_path / "black.mp4"
    _ffmpeg("-f", "lavfi", "-i", "color=black:size=320x180:rate=24:d=2", *X264, "-pix_fmt", "yuv420p", black)
    still = tmp_path / "still.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:d=3", "-vf", "select=eq(n\\,0),loop=71:1:0",
            *X264, "-pix_fmt", "yuv420p", still)
    voice = _sound(tmp_path / "voice.m4a", "sine=frequency=440:sample_rate=48000", seconds=7.0)
    video = tmp_path / "v.mp4"
    composed = compose([moving, black, still], video, fps=24, width=320, height=180, audio=voice,
                       joins=[("fade_black", 12), ("crossfade", 12)], preset="ultrafast", detect_stretches=STRETCHES)
    assert composed.method == "encode"
    facts = probe(video)
    whole = look_at(video, facts)
    seen = look_at(video, facts, composed.stretches)
    assert seen["black"] == whole["black"] == [(2.75, 4.04167)]  # from the middle of the fade to black
    # Still from the end of the crossfade (frame 108) to the end of the file. In the written file x264
    # takes a few frames to settle on the still picture, so a pass over the file finds it a little later.
    assert seen["frozen"] == [(4.5, facts["duration"])] and abs(facts["duration"] - 7.0) < 0.05
    assert len(whole["frozen"]) == 1 and 4.5 < whole["frozen"][0][0] <= 4.75
    assert {k: v for k, v in seen.items() if k != "frozen"} == {k: v for k, v in whole.items() if k != "frozen"}
    assert seen["errors"] == "" and seen["frames"] == 168 and abs(seen["loudness"]["integrated_lufs"] + 14) < 1.5
    # Stream-copied, nothing is detected while composing: look_at makes its full pass.
    copied = compose([moving, black], tmp_path / "copy.mp4", fps=24, width=320, height=180,
                     detect_stretches=STRETCHES)
    assert copied.method == "stream_copy" and copied.stretches is None


# ---------------------------------------------------------------------------------------------------
# Every final-video check seen failing on a real bad video of its kind, the others passing it, and a
# good control video passing them all. The videos are 320x180, 24 fps, 5 s (the shortest brief),
# made once for the module; each is probed and looked at (one decoding pass) once.

FINAL_CHECK_NAMES = {spec.name for spec in FINAL_VIDEO_CHECKS}
SECONDS = 5  # the shortest a brief may ask for
MOVING = ("pan_left", "zoom_in")  # the two shots' camera movements, unless a test says otherwise


def _brief(**options):
    return validate_brief({"topic": "Lighthouses along a stormy coast",
                           "options": {"duration": SECONDS, "resolution": "180p", "fps": 24, **options}},
                          "20261203-test-abcd")


def _ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


X264 = ("-c:v", "libx264", "-preset", "ultrafast")


def _picture(out, size="320x180", rate=24, seconds=SECONDS, vf=None, codec=X264):
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:d={seconds}", *(("-vf", vf) if vf else ()),
            *codec, "-pix_fmt", "yuv420p", out)
    return out


def _sound(out, source, seconds=SECONDS, af=None):
    _ffmpeg("-f", "lavfi", "-i", source, "-t", seconds, *(("-af", af) if af else ()), "-c:a", "aac", out)
    return out


def _mux(out, picture, sound=None):
    _ffmpeg("-i", picture, *(("-i", sound, "-map", "0:v", "-map", "1:a") if sound else ()), "-c", "copy",
            "-movflags", "+faststart", out)
    return out


def _spoil_tail(good, out, fraction, garbage):
    """`good` with its last `fraction` of bytes cut off, or overwritten by random bytes."""
    data = bytearray(good.read_bytes())
    cut = int(len(data) * (1 - fraction))
    if garbage:
        noise = random.Random(7)
        data[cut:] = bytes(noise.randrange(256) for _ in range(len(data) - cut))
    else:
        del data[cut:]
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """name -> (probe facts, what look_at found), for the good control and each bad video."""
    d = tmp_path_factory.mktemp("check_videos")
    pic = _picture(d / "pic.mp4")
    # A 1 kHz tone at -14 LUFS (true peak about -10 dBTP): what the mastered sound should measure.
    tone = _sound(d / "tone.m4a", "sine=frequency=1000:sample_rate=48000", af="volume=7dB")
    good = _mux(d / "good.mp4", pic, tone)
    made = {
        "good": good,
        "no_audio": _mux(d / "no_audio.mp4", pic),
        "too_small": _mux(d / "small.mp4", _picture(d / "small_pic.mp4", size="256x144"), tone),
        "25fps": _mux(d / "25fps.mp4", _picture(d / "25fps_pic.mp4", rate=25), tone),
        "mpeg4": _mux(d / "mpeg4.mp4", _picture(d / "mpeg4_pic.mp4", codec=("-c:v", "mpeg4", "-q:v", "5")), tone),
        "too_short": _mux(d / "short.mp4", _picture(d / "short_pic.mp4", seconds=3), _sound(
            d / "short_tone.m4a", "sine=frequency=1000:sample_rate=48000", seconds=3, af="volume=7dB")),
        "silent_track": _mux(d / "silent.mp4", pic, _sound(d / "silence.m4a", "anullsrc=r=48000:cl=mono")),
        "sound_ends_early": _mux(d / "early.mp4", pic, _sound(
            d / "early_tone.m4a", "sine=frequency=1000:sample_rate=48000", seconds=4, af="volume=7dB")),
        # A full-scale square wave: about 0 LUFS, true peak above 0 dBTP.
        "too_loud": _mux(d / "loud.mp4", pic, _sound(
            d / "square.m4a", f"aevalsrc='if(lt(mod(t*440\\,1)\\,0.5)\\,1\\,-1)':s=48000:d={SECONDS}")),
        # The tone 22 dB down: about -36 LUFS, yet well above the silence threshold (-45 dBFS).
        "too_quiet": _mux(d / "quiet.mp4", pic, _sound(d / "quiet.m4a", "sine=frequency=1000:sample_rate=48000",
                                                       af="volume=-15dB")),
        # -14 LUFS, but a 20 ms burst peaks near full scale: the true peak alone is out of range.
        "peaks_too_high": _mux(d / "peaky.mp4", pic, _sound(d / "peaky.m4a", (
            "aevalsrc='0.28*sin(2*PI*1000*t)+if(between(t\\,2.5\\,2.52)\\,0.7*sin(2*PI*3000*t)\\,0)'"
            f":s=48000:d={SECONDS}"))),
        # Black from 2 s to 3.5 s.
        "black_middle": _mux(d / "black.mp4", _picture(
            d / "black_pic.mp4", vf="drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,2,3.5)'"), tone),
        # Frames 60-107 (2.5-4.5 s, inside the second shot) all show frame 60.
        "frozen_second_shot": _mux(d / "frozen.mp4", _picture(
            d / "frozen_pic.mp4", vf="split[a][b];[a][b]freezeframes=first=60:last=107:replace=60"), tone),
        # The last tenth of the file cut off (the index still promises those frames) ...
        "truncated_tail": _spoil_tail(good, d / "truncated.mp4", 0.10, garbage=False),
        # ... or overwritten with garbage, the file's length unchanged.
        "garbage_tail": _spoil_tail(good, d / "garbage.mp4", 0.10, garbage=True),
    }
    seen = {}

    def look(name):
        if name not in seen:
            facts = probe(made[name])
            seen[name] = (facts, look_at(made[name], facts))
        return seen[name]

    look.files = made
    return look


def _final_results(videos, name, brief=None, board=None, narration=None) -> dict:
    """Every final-video check on video `name`, as final_video yields them: {check name: result}."""
    facts, found = videos(name)
    brief = brief or _brief()
    board = board or _board(2, SECONDS / 2, MOVING)
    narration = narration or _narration(2, SECONDS / 2, speech=2.0)
    results = [*final_video_checks(found, facts, brief), *media_checks(found, facts, board, narration)]
    by_name = {r.check_name: r for r in results}
    assert len(by_name) == len(results) and set(by_name) == FINAL_CHECK_NAMES
    return by_name


def _failed(results: dict) -> set[str]:
    return {name for name, r in results.items() if not r.passed}


def test_the_good_control_video_passes_every_check(videos):
    assert _failed(_final_results(videos, "good")) == set()
    # A video without sound for a brief without audio is as good.
    assert _failed(_final_results(videos, "no_audio", brief=_brief(include_audio=False))) == set()


@pytest.mark.parametrize(("name", "size", "fps", "codec"), [
    ("too_small", "256x144", 24.0, "h264"),
    ("25fps", "320x180", 25.0, "h264"),
    ("mpeg4", "320x180", 24.0, "mpeg4"),
])
def test_format_as_requested_fails_a_wrong_size_rate_or_codec(videos, name, size, fps, codec):
    results = _final_results(videos, name)
    assert _failed(results) == {"format_as_requested"}
    meta = {k: v.value for k, v in results["format_as_requested"].metadata.items()}
    assert (meta["size"], meta["fps"], meta["codec"]) == (size, fps, codec)
    assert (meta["requested_size"], meta["requested_fps"]) == ("320x180", 24)


def test_duration_matches_brief_fails_a_video_too_short(videos):
    results = _final_results(videos, "too_short", narration=_narration(2, 1.5, speech=1.0),
                             board=_board(2, 1.5, MOVING))
    assert _failed(results) == {"duration_matches_brief"}
    assert abs(results["duration_matches_brief"].metadata["duration_s"].value - 3.0) < 0.05
    # Too short for a longer brief, too: the good 5 s video against a 10 s brief.
    assert _failed(_final_results(videos, "good", brief=_brief(duration=10))) == {"duration_matches_brief"}


def test_audio_present_fails_no_track_when_asked_and_a_track_when_not(videos):
    assert _failed(_final_results(videos, "no_audio")) == {"audio_present"}
    results = _final_results(videos, "good", brief=_brief(include_audio=False))
    assert _failed(results) == {"audio_present"}
    assert results["audio_present"].metadata["audio_codec"].value == "aac"


def test_a_silent_track_passes_audio_present_but_not_loudness_or_narration(videos):
    """A track of digital silence is a track (audio_present passes); the sound checks catch it."""
    results = _final_results(videos, "silent_track")
    assert _failed(results) == {"loudness_in_range", "narration_audible"}
    assert "shot 1" in results["narration_audible"].metadata["problems"].value
    assert "shot 2" in results["narration_audible"].metadata["problems"].value


@pytest.mark.parametrize("name", ["truncated_tail", "garbage_tail"])
def test_decodes_cleanly_fails_an_undecodable_tail(videos, name):
    facts, found = videos(name)
    # The header still describes the whole video: only decoding finds what is missing.
    assert facts["duration"] == 5.0 and facts["video"]["frames"] == 120
    assert found["errors"] and "[error]" in found["errors"]
    results = _final_results(videos, name)
    assert _failed(results) == {"decodes_cleanly"}
    assert "[error]" in results["decodes_cleanly"].metadata["decoder_errors"].value
    assert results["decodes_cleanly"].metadata["decoder_errors"].value != "none"
    _, good = videos("good")
    assert good["errors"] == ""
    # As final_video looks, the stretches found while composing: the picture is only decoded (no
    # deblocking), and what does not decode is still found.
    known = {"black": [], "frozen": []}
    assert "[error]" in look_at(videos.files[name], facts, known)["errors"]
    assert look_at(videos.files["good"], probe(videos.files["good"]), known)["errors"] == ""


@pytest.mark.parametrize(("name", "lufs_between", "peak_above"), [
    ("too_loud", (-6.0, 3.0), -1.0),
    ("too_quiet", (-45.0, -25.0), None),
    ("peaks_too_high", (-15.5, -12.5), -1.0),
])
def test_loudness_in_range_fails_too_loud_too_quiet_or_peaking(videos, name, lufs_between, peak_above):
    results = _final_results(videos, name)
    assert _failed(results) == {"loudness_in_range"}
    meta = {k: v.value for k, v in results["loudness_in_range"].metadata.items()}
    assert lufs_between[0] < meta["integrated_lufs"] < lufs_between[1], meta
    if peak_above is not None:
        assert meta["true_peak_dbtp"] > peak_above, meta
    good = {k: v.value for k, v in _final_results(videos, "good")["loudness_in_range"].metadata.items()}
    assert abs(good["integrated_lufs"] + 14) < 1.0 and good["true_peak_dbtp"] <= -1.0


def test_no_black_stretches_fails_a_black_second_and_a_half_in_the_middle(videos):
    static = _board(2, SECONDS / 2)
    results = _final_results(videos, "black_middle", board=static)
    assert _failed(results) == {"no_black_stretches"}
    (start, end), = videos("black_middle")[1]["black"]
    assert abs(start - 2.0) < 0.1 and abs(end - 3.5) < 0.1
    # Black pictures do not move either: inside moving shots the stretch is frozen too.
    assert _failed(_final_results(videos, "black_middle")) == {"no_black_stretches", "moving_shots_move"}


def test_moving_shots_move_fails_a_frozen_stretch_in_a_moving_shot(videos):
    results = _final_results(videos, "frozen_second_shot")
    assert _failed(results) == {"moving_shots_move"}
    problems = results["moving_shots_move"].metadata["problems"].value
    assert "shot 2 (zoom_in)" in problems and "shot 1" not in problems
    # The same stillness in a static shot is what was asked for.
    still_second = _board(2, SECONDS / 2, ("pan_left", "static"))
    assert _failed(_final_results(videos, "frozen_second_shot", board=still_second)) == set()


def test_audio_in_sync_fails_sound_that_ends_a_second_early(videos):
    results = _final_results(videos, "sound_ends_early")
    assert _failed(results) == {"audio_in_sync"}
    assert abs(results["audio_in_sync"].metadata["audio_minus_video_s"].value + 1.0) < 0.1


def test_storyboard_duration_matches_brief_fails_shots_adding_up_to_twice_the_brief():
    brief = _brief(duration=10)
    results = {r.check_name: r for r in storyboard_checks(_board(2, 10.0), brief)}
    assert not results["duration_matches_brief"].passed and results["valid_shots"].passed
    assert results["duration_matches_brief"].metadata["off_by_pct"].value == 100.0
    results = {r.check_name: r for r in storyboard_checks(_board(2, 5.0), brief)}
    assert results["duration_matches_brief"].passed and results["valid_shots"].passed


def test_storyboard_duration_is_the_shots_not_the_total_field():
    board = _board(2, 10.0).model_copy(update={"total_duration": 10.0})
    results = {r.check_name: r for r in storyboard_checks(board, _brief(duration=10))}
    assert not results["duration_matches_brief"].passed


def _valid_shots(board, brief):
    result = next(r for r in storyboard_checks(board, brief) if r.check_name == "valid_shots")
    return result.passed, result.metadata["problems"].value


def test_valid_shots_fails_a_storyboard_of_the_wrong_length_or_with_unspeakable_lines():
    brief = _brief(duration=10, shots=2)
    assert _valid_shots(_board(2, 5.0), brief) == (True, "none")
    passed, problems = _valid_shots(_board(3, 10 / 3), brief)
    assert not passed and "the storyboard has 3 shots; the brief asks for 2" in problems
    long_line = _board(2, 5.0)
    long_line.shots[1] = long_line.shots[1].model_copy(update={"narration": "A very long sentence. " * 20})
    passed, problems = _valid_shots(long_line, brief)
    assert not passed and "shot 2's narration takes about 32.0 s to say; it has 5.0 s" in problems
    wrong_language = _board(2, 5.0)
    wrong_language.shots[0] = wrong_language.shots[0].model_copy(update={"narration": "灯塔在风暴中闪烁。"})
    wrong_language.shots[1] = wrong_language.shots[1].model_copy(update={"narration": "海浪拍打着岩石。"})
    passed, problems = _valid_shots(wrong_language, brief)
    assert not passed and "the narration is in Chinese; the brief asks for English" in problems
    blank = _board(2, 5.0)
    blank.shots[0] = blank.shots[0].model_copy(update={"description": "   "})
    passed, problems = _valid_shots(blank, brief)
    assert not passed and "shot 1's description is blank" in problems


def test_each_tasks_check_results_are_its_own_partitions(store, instance):
    """The checks are partitioned like their assets: two tasks' results are kept apart, each under
    its own partition and naming its task, not one replacing the other."""
    import dagster as dg
    from dagster._core.event_api import PartitionKeyFilter

    from .helpers import materialize, submit

    lengths = {submit(store, instance, "Tide pools", resolution="180p", duration=5, shots=2): 5.0,
               submit(store, instance, "Salt marshes", resolution="180p", duration=6, shots=2): 6.0}
    for task in lengths:
        assert materialize(instance, task).success
    names = {"storyboard": ["duration_matches_brief", "valid_shots"],
             "final_video": [spec.name for spec in FINAL_VIDEO_CHECKS]}
    for asset, checks in names.items():
        for name in checks:
            key = dg.AssetCheckKey(dg.AssetKey(asset), name)
            assert len(instance.event_log_storage.get_asset_check_execution_history(key, limit=10)) == 2
            for task, seconds in lengths.items():
                records = instance.event_log_storage.get_asset_check_execution_history(
                    key, limit=10, partition_filter=PartitionKeyFilter(key=task))
                assert [r.partition for r in records] == [task], (asset, name)
                evaluation = records[0].event.dagster_event.event_specific_data
                assert evaluation.partition == task and evaluation.passed
                assert evaluation.metadata["task"].value == task
                if name == "duration_matches_brief":
                    requested = evaluation.metadata["requested_s"].value
                    assert requested == seconds, (asset, task, requested)
