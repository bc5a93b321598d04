"""Joining clips: which joins force an encode, and every transition landing on its frames."""

from pathlib import Path

import numpy as np
import pytest

from videoagent_dagster.media.compose import compose
from videoagent_dagster.media.picture import picture_graph
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.run import Command
from videoagent_dagster.media.subtitles import Cue, write_ass

from .clips import decode_errors, frame_at, moving_clips, solid


def test_stream_copy_not_taken_when_the_picture_must_change(tmp_path):
    clips = moving_clips(tmp_path)
    ass = tmp_path / "s.ass"
    write_ass([Cue(0.1, 1.0, "x")], ass, 320, 180)
    cases = {  # what changes the picture → the reason given
        "transitions (crossfade)": dict(joins=[("crossfade", 6)]),
        "burned": dict(burn_subtitles=ass),
        "not h264/yuv420p 480x270": dict(width=480, height=270),
    }
    for i, (reason, extra) in enumerate(cases.items()):
        size = {"width": extra.pop("width", 320), "height": extra.pop("height", 180)}
        done = compose(clips, tmp_path / f"{i}.mp4", fps=25, preset="ultrafast", **size, **extra)
        assert done.method == "encode" and reason in done.why_encoded, (reason, done)
    assert probe(tmp_path / "2.mp4")["video"]["width"] == 480
    # Clips encoded with other settings than their neighbours cannot share one stream either.
    mixed = [clips[0], moving_clips(tmp_path, n=2, preset="veryfast")[1]]
    done = compose(mixed, tmp_path / "mixed.mp4", fps=25, width=320, height=180, preset="ultrafast")
    assert done.method == "encode" and "other settings" in done.why_encoded
    assert decode_errors(tmp_path / "mixed.mp4", audio=False) == ""


@pytest.mark.parametrize("transition", ["crossfade", "fade_black", "slide", "wipe"])
def test_each_transition_blends_the_shots_and_keeps_the_length(tmp_path, transition):
    red = solid(tmp_path / "red.mp4", "red", 36)
    blue = solid(tmp_path / "blue.mp4", "blue", 30)
    out = tmp_path / "t.mp4"
    done = compose([red, blue], out, fps=24, width=320, height=180, joins=[(transition, 12)], preset="ultrafast")
    assert done.method == "encode"
    assert probe(out)["video"]["frames"] == 36 + 30 - 12  # the outgoing clip carries the overlap
    before, middle, after = frame_at(out, 20), frame_at(out, 30), frame_at(out, 50)
    assert before[..., 0].mean() > 200 and before[..., 2].mean() < 60  # still red
    assert after[..., 2].mean() > 200 and after[..., 0].mean() < 60  # blue
    left, right = middle[:, :100], middle[:, -100:]
    if transition == "crossfade":  # every pixel part red, part blue
        assert 60 < middle[..., 0].mean() < 200 and 60 < middle[..., 2].mean() < 200
        assert abs(left.mean() - right.mean()) < 10
    elif transition == "fade_black":  # dark at the midpoint
        assert middle.mean() < 40
    else:  # slide and wipe move the new shot in from one side: one side blue, the other red
        assert left[..., 0].mean() > 200 and right[..., 2].mean() > 200, (left.mean(axis=(0, 1)),
                                                                          right.mean(axis=(0, 1)))


def test_mixed_transitions_and_cuts_land_on_their_frames(tmp_path):
    colours = ["red", "blue", "lime", "white", "black"]
    clips = [solid(tmp_path / f"{c}.mp4", c, 36 if i < 4 else 24) for i, c in enumerate(colours)]
    joins = [("crossfade", 12), ("cut", 0), ("wipe", 12), ("slide", 12)]
    out = tmp_path / "mixed.mp4"
    compose(clips, out, fps=24, width=320, height=180, joins=joins, preset="ultrafast")
    # Each join's overlap comes out of the outgoing clip: 36+36+36+36+24 - 12*3 frames.
    assert probe(out)["video"]["frames"] == 168 - 36
    expect = {10: (255, 0, 0), 40: (0, 0, 255), 70: (0, 255, 0), 95: (255, 255, 255), 130: (0, 0, 0)}
    for index, rgb in expect.items():  # the middle of each shot's own time shows that shot alone
        assert np.abs(frame_at(out, index).mean(axis=(0, 1)) - rgb).max() < 40, (index, rgb)
    assert 60 < frame_at(out, 30)[..., 0].mean() < 200  # inside the crossfade: red and blue mixed


def test_unknown_transition_and_mismatched_joins_are_refused(tmp_path):
    red = solid(tmp_path / "red.mp4", "red", 12)
    with pytest.raises(ValueError, match="unknown transition.*spin"):
        compose([red, red], tmp_path / "o.mp4", fps=24, width=320, height=180, joins=[("spin", 6)])
    with pytest.raises(ValueError, match="2 clips need 1 joins"):
        compose([red, red], tmp_path / "o.mp4", fps=24, width=320, height=180, joins=[])
    assert not (tmp_path / "o.mp4").exists()


def test_the_picture_graph_reads_the_joined_clips_by_handle():
    """Inputs are named by the handles Command gives: the graph's readers are whatever inputs were
    added for it, wherever they sit in the command."""
    sigs = [{"nb_frames": "36", "r_frame_rate": "24/1"}, {"nb_frames": "30", "r_frame_rate": "24/1"}]
    cmd = Command()
    cmd.input("music.wav")  # an input before the readers: they are 1 and 2, not 0 and 1

    listings = []

    def read(listing):
        listings.append(listing)
        return cmd.input(f"clips{len(listings)}.txt", "-f", "concat", "-safe", "0")

    clips = [Path("/a.mp4"), Path("/b.mp4")]
    graph = picture_graph(clips, sigs, [("crossfade", 12)], 24, 320, 180, "subs.ass", read=read)
    assert graph.startswith("[1:v]scale=320:180")  # at the clips' rate: no fps filter
    assert ";[2:v]select=" in graph and "[0:v]" not in graph and graph.endswith("ass=subs.ass,format=yuv420p[vout]")
    assert cmd.args == ["-i", "music.wav", "-f", "concat", "-safe", "0", "-i", "clips1.txt",
                        "-f", "concat", "-safe", "0", "-i", "clips2.txt"]
    # The second reader reads only the incoming head: clip 2's first 12 frames, placed as long as the clip.
    assert listings == ["file '/a.mp4'\nfile '/b.mp4'\n", "file '/b.mp4'\noutpoint 0.500000\nduration 1.250000\n"]
    cut = Command()
    assert picture_graph(clips, sigs, [("cut", 0)], 24, 320, 180, None, read=lambda _: cut.input("clips.txt")) == (
        "[0:v]scale=320:180:force_original_aspect_ratio=increase,crop=320:180,setsar=1,format=yuv420p,settb=1/24,"
        "format=yuv420p[vout]")
