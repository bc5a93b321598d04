"""Composer benchmark: our one-pass ffmpeg composer against a MoviePy baseline, side by side.

The same clips (default 12 shots, 60 s, 1080p30: moving lavfi test patterns, libx264 veryfast) are
composed by both contenders in two scenarios:

  plain    every join a cut, nothing burned in. Ours joins by stream copy; MoviePy runs
           concatenate_videoclips + write_videofile(codec="libx264", preset="veryfast",
           audio_codec="aac"), as MoneyPrinterTurbo does.
  effects  0.5 s crossfades, espeak-ng narration, burned-in subtitles. Ours is one encode
           (two decoders whatever the number of shots; subtitles by libass); MoviePy uses
           vfx.CrossFadeIn + concatenate_videoclips(padding=-0.5, method="compose"), an
           AudioFileClip and TextClip overlays in a CompositeVideoClip.

Each composition runs in its own child process, which times only the composition itself, with the
libraries already imported. Peak memory is the largest single process: the higher of the worker's
own peak RSS (RUSAGE_SELF) and that of the largest ffmpeg/ffprobe it started and waited for
(RUSAGE_CHILDREN). The details also give the summed RSS of the worker's whole process tree, sampled
every 0.2 s, because MoviePy keeps one ffmpeg reader per clip running at once. Both contenders use
the system ffmpeg and libx264. Aims: plain join >= 20x faster, effects >= 2x faster, our peak < 500 MB.

Each scenario also gets its floor, measured in the same run: one plain encode of a moving test
pattern of the output's size, rate and length with our encoder settings (media/encoders.py's
encoder_args for libx264 veryfast, crf 21; an AAC track when the output has sound). Composing
cannot take less than encoding once; ours / floor is what composing adds. Aim for the long run
(and the effects one): ours <= 1.2x its floor. Beside it, the transcode: the same clips decoded
and encoded once with nothing else done (cuts, no subtitles) — what decoding the clips costs on
top of the floor, which no composer of these clips can avoid.

    .venv/bin/python bench/compose.py [--shots 12] [--seconds 60] [--resolution 1080p] [--fps 30]
        [--keep DIR] [--skip-moviepy] [--long-minutes N]

--long-minutes N also measures our composer alone on an N-minute video (6 s shots, crossfades,
narration, subtitles; a few distinct clips reused), which would take MoviePy too long.
MoviePy comes from the `bench` extra: pip install "moviepy>=2,<3".
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

MOVIEPY = "moviepy>=2,<3"
FADE_SECONDS = 0.5
LONG_SHOT_SECONDS = 6
LONG_DISTINCT_CLIPS = 4
AIMS = {"plain": 20.0, "effects": 2.0}  # how many times faster than MoviePy ours should be
AIM_PEAK_MB = 500
AIM_FLOOR_RATIO = 1.2  # for the scenarios that encode: ours / one plain encode of the same output
CRF = 21  # compose()'s default, which final_video uses too
# Gradient colours, given explicitly: in ffmpeg 5.1 the seed alone leaves them random.
COLOURS = ["0x1d3557", "0xe63946", "0x2a9d8f", "0xf4a261", "0x6a4c93", "0xffb703"]
LINES = [
    "Morning light spills over the ridge and the valley slowly wakes.",
    "A river cuts through the plain, carrying silt from distant mountains.",
    "Herds move along the water, following routes older than any map.",
    "By noon the heat is heavy, and most of the animals rest in the shade.",
    "Clouds gather in the west, and the first drops darken the dust.",
    "When night falls, the plain belongs to the hunters and the stars.",
]


def size_for(resolution: str) -> tuple[int, int]:
    """16:9 width and height for a resolution name like 1080p (both sides even)."""
    short = int(resolution.rstrip("p"))
    return round(short * 16 / 9 / 2) * 2, short


def make_clip(folder: Path, index: int, frames: int, fps: int, width: int, height: int) -> Path:
    """A moving test pattern, encoded like every other clip so that they can share one stream."""
    out = folder / f"clip{index}-{frames}f-{width}x{height}@{fps}.mp4"
    if out.exists():
        return out
    source = (f"testsrc2=size={width}x{height}:rate={fps},hue=h={index * 47}" if index % 2 == 0
              else f"gradients=size={width}x{height}:rate={fps}:seed={index}:speed=0.05:"
                   f"c0={COLOURS[index % len(COLOURS)]}:c1={COLOURS[(index + 3) % len(COLOURS)]}")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def prepare(folder: Path, shots: int, shot_frames: int, fps: int, width: int, height: int,
            distinct: int) -> dict:
    """Clips for cut joins and for crossfades (each outgoing clip carries the overlap), the
    narration track and the subtitles, as ASS for ours and as cues for MoviePy."""
    from videoagent_dagster.media.audio import narration_track
    from videoagent_dagster.media.speech import speak
    from videoagent_dagster.media.subtitles import cues_for_lines, write_ass

    overlap = round(FADE_SECONDS * fps)
    plain = [make_clip(folder, i % distinct, shot_frames, fps, width, height) for i in range(shots)]
    faded = [make_clip(folder, i % distinct, shot_frames + overlap, fps, width, height)
             for i in range(shots - 1)] + [plain[-1]]
    shot_seconds = shot_frames / fps
    speech = {}
    for i in range(min(shots, len(LINES))):
        wav = folder / f"line{i}.wav"
        speech[i] = (wav, min(speak(LINES[i], wav, language="en"), shot_seconds))
    narration = folder / f"narration-{shots}x{shot_frames}f.wav"
    narration_track([(speech[i % len(LINES)][0], shot_seconds) for i in range(shots)], narration)
    cues = cues_for_lines([(LINES[i % len(LINES)], i * shot_seconds, speech[i % len(LINES)][1])
                           for i in range(shots)], width, height)
    ass = folder / f"subtitles-{shots}x{shot_frames}f-{width}x{height}.ass"
    write_ass(cues, ass, width, height)
    return {"plain": plain, "faded": faded, "overlap": overlap, "narration": narration, "ass": ass,
            "cues": [(c.start, c.end, c.text) for c in cues]}


def compose_ours(spec: dict) -> str:
    from videoagent_dagster.media.compose import compose

    n = len(spec["clips"])
    joins = [("crossfade", spec["overlap"]) if spec["overlap"] else ("cut", 0)] * (n - 1)
    done = compose([Path(c) for c in spec["clips"]], Path(spec["out"]), fps=spec["fps"], width=spec["width"],
                   height=spec["height"], joins=joins, audio=spec["audio"] and Path(spec["audio"]),
                   burn_subtitles=spec["ass"] and Path(spec["ass"]), encoder="libx264", preset="veryfast")
    return done.method


def floor_seconds(out: Path, *, width: int, height: int, fps: int, seconds: float, audio: bool) -> float:
    """Wall seconds of one plain encode of `seconds` of a moving test pattern at width x height and
    fps with our encoder settings (and an AAC track like ours when `audio`)."""
    from videoagent_dagster.media.compose import SAMPLE_RATE
    from videoagent_dagster.media.encoders import encoder_args

    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=220:sample_rate={SAMPLE_RATE}"]
    cmd += ["-t", f"{seconds:.3f}", "-map", "0:v", *encoder_args("libx264", preset="veryfast", crf=CRF, fps=fps)]
    if audio:
        cmd += ["-map", "1:a", "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE)]
    started = time.perf_counter()
    subprocess.run([*cmd, "-movflags", "+faststart", "-f", "mp4", str(out)], check=True)
    return time.perf_counter() - started


def transcode_seconds(clips: list[Path], out: Path, *, fps: int, audio: Path) -> float:
    """Wall seconds of a plain decode and re-encode of `clips`, joined end to end (no transitions, no
    subtitles, the narration as AAC), with our encoder settings: the least any composer that decodes
    these clips and encodes once can take."""
    from videoagent_dagster.media.compose import SAMPLE_RATE
    from videoagent_dagster.media.encoders import encoder_args
    from videoagent_dagster.media.picture import concat_list

    listing = out.with_suffix(".txt")
    listing.write_text(concat_list(clips), encoding="utf-8")
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio),
           "-map", "0:v", *encoder_args("libx264", preset="veryfast", crf=CRF, fps=fps),
           "-map", "1:a", "-c:a", "aac", "-b:a", "160k", "-ar", str(SAMPLE_RATE), "-movflags", "+faststart",
           "-f", "mp4", str(out)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def compose_moviepy(spec: dict) -> str:
    from moviepy import (
        AudioFileClip,
        CompositeVideoClip,
        TextClip,
        VideoFileClip,
        concatenate_videoclips,
        vfx,
    )

    from videoagent_dagster.media.frames import font_path
    from videoagent_dagster.media.subtitles import layout_for

    fade = spec["overlap"] / spec["fps"]
    with ExitStack() as stack:  # closing a clip stops and reaps its ffmpeg reader
        clips = [stack.enter_context(VideoFileClip(c, audio=False)) for c in spec["clips"]]
        if fade:
            clips = [clips[0], *(c.with_effects([vfx.CrossFadeIn(fade)]) for c in clips[1:])]
            video = concatenate_videoclips(clips, padding=-fade, method="compose")
        else:
            video = concatenate_videoclips(clips)
        if spec["cues"]:
            # The same size, outline and bottom margin as our ASS style (TextClip sizes the em in pixels);
            # the vertical margin keeps TextClip from cutting off descenders, as MoneyPrinterTurbo's does.
            lay = layout_for(spec["width"], spec["height"])
            texts = []
            for start, end, text in spec["cues"]:
                t = TextClip(font=font_path(bold=True), text=text, font_size=lay.em, color="white",
                             stroke_color="black", stroke_width=max(1, round(lay.font_size / 14)),
                             method="caption", size=(int(lay.line_width), None), margin=(0, lay.em // 3),
                             text_align="center")
                texts.append(t.with_start(start).with_duration(end - start)
                             .with_position(("center", spec["height"] - lay.margin_v - t.h)))
            video = CompositeVideoClip([video, *texts])
        if spec["audio"]:
            video = video.with_audio(stack.enter_context(AudioFileClip(spec["audio"])))
        video.write_videofile(spec["out"], fps=spec["fps"], codec="libx264", preset="veryfast", audio_codec="aac",
                              audio_bitrate="160k", logger=None)
    return "moviepy"


def worker(spec: dict) -> None:
    """Compose once in this process; print wall time and peak RSS as JSON."""
    # Libraries are loaded before the clock starts: a server composing many videos loads them once.
    importlib.import_module("moviepy" if spec["contender"] == "moviepy" else "videoagent_dagster.media.compose")
    started = time.perf_counter()
    method = (compose_moviepy if spec["contender"] == "moviepy" else compose_ours)(spec)
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "method": method,
                      "python_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "ffmpeg_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def tree_rss_mb(root: int) -> float:
    """Summed RSS of `root` and all its descendants, from /proc."""
    parent, rss = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        pid = int(stat.parent.name)
        parent[pid], rss[pid] = int(fields[1]), int(fields[21])
    tree, grown = {root}, True
    while grown:
        found = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= found
        grown = bool(found)
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(spec: dict, folder: Path) -> dict:
    """Run one composition in a child process; its result plus the sampled peak of its process tree."""
    name = f"{spec['scenario']}-{spec['contender']}"
    # MoviePy would otherwise use the ffmpeg bundled with imageio-ffmpeg; both get the same one.
    env = {**os.environ, "FFMPEG_BINARY": shutil.which("ffmpeg") or "ffmpeg"}
    with open(folder / f"{name}.out", "w") as out, open(folder / f"{name}.err", "w") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)], stdout=out, stderr=err,
                                env=env)
        tree = 0.0
        while proc.poll() is None:
            tree = max(tree, tree_rss_mb(proc.pid))
            time.sleep(0.2)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{(folder / f'{name}.err').read_text()[-3000:]}")
    result = json.loads((folder / f"{name}.out").read_text().strip().splitlines()[-1])
    from videoagent_dagster.media.probe import probe

    facts = probe(spec["out"])
    return {**result, "tree_mb": tree, "peak_mb": max(result["python_mb"], result["ffmpeg_mb"]),
            "seconds": facts["duration"], "frames": facts["video"]["frames"]}


def moviepy_problem() -> str:
    """Why MoviePy 2.x cannot be used here ('' when it can)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("moviepy")
    except PackageNotFoundError:
        found = ""
    if found and int(found.split(".")[0]) >= 2:
        return ""
    return (f"MoviePy 2.x is needed for the baseline ({'found ' + found if found else 'not installed'}); install it "
            f"with: {sys.executable} -m pip install \"{MOVIEPY}\"  (or pass --skip-moviepy)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--resolution", default="1080p", help="180p, 360p, 480p, 720p, 1080p (16:9)")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="keep clips and outputs here instead of a temp dir")
    parser.add_argument("--skip-moviepy", action="store_true", help="measure our composer only")
    parser.add_argument("--long-minutes", type=float, default=0,
                        help="also measure our composer's memory on a video this many minutes long")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if not args.skip_moviepy and moviepy_problem():
        print(moviepy_problem(), file=sys.stderr)
        return 2

    work = args.keep or Path(tempfile.mkdtemp(prefix="videoagent-bench-compose-"))
    work.mkdir(parents=True, exist_ok=True)
    width, height = size_for(args.resolution)
    shot_frames = round(args.seconds * args.fps / args.shots)
    contenders = ["ours"] if args.skip_moviepy else ["ours", "moviepy"]
    # (scenario, contenders, prepared clip set, with effects)
    cases = []
    print(f"preparing {args.shots} clips of {shot_frames} frames at {width}x{height}...", file=sys.stderr, flush=True)
    main_set = prepare(work, args.shots, shot_frames, args.fps, width, height, distinct=args.shots)
    cases += [("plain", contenders, main_set, False), ("effects", contenders, main_set, True)]
    if args.long_minutes:
        long_shots = round(args.long_minutes * 60 / LONG_SHOT_SECONDS)
        print(f"preparing {long_shots} long-run shots from {LONG_DISTINCT_CLIPS} distinct clips...", file=sys.stderr,
              flush=True)
        long_set = prepare(work, long_shots, LONG_SHOT_SECONDS * args.fps, args.fps, width, height,
                           distinct=LONG_DISTINCT_CLIPS)
        cases.append((f"long {args.long_minutes:g} min", ["ours"], long_set, True))

    results: dict[tuple[str, str], dict] = {}
    for scenario, who, prepared, effects in cases:
        for contender in who:
            print(f"composing: {scenario}, {contender}...", file=sys.stderr, flush=True)
            spec = {"contender": contender, "scenario": scenario.replace(" ", ""), "fps": args.fps,
                    "width": width, "height": height, "out": str(work / f"{scenario.replace(' ', '')}-{contender}.mp4"),
                    "clips": [str(c) for c in prepared["faded" if effects else "plain"]],
                    "overlap": prepared["overlap"] if effects else 0,
                    "audio": str(prepared["narration"]) if effects else None,
                    "ass": str(prepared["ass"]) if effects else None,
                    "cues": prepared["cues"] if effects else []}
            results[scenario, contender] = measure(spec, work)
        if effects:  # the plain join is a stream copy: there is no encode to compare it with
            ours = results[scenario, "ours"]
            print(f"encoding the floor: {scenario}...", file=sys.stderr, flush=True)
            ours["floor"] = floor_seconds(work / "floor.mp4", width=width, height=height, fps=args.fps,
                                          seconds=ours["seconds"], audio=True)
            print(f"transcoding the same clips: {scenario}...", file=sys.stderr, flush=True)
            ours["transcode"] = transcode_seconds(prepared["plain"], work / "transcode.mp4", fps=args.fps,
                                                  audio=prepared["narration"])

    print(f"compose benchmark: {args.shots} shots, {args.seconds:g} s, {width}x{height} @ {args.fps} fps, "
          f"{os.cpu_count()} cores, libx264 veryfast for both")
    print("peak MB = the largest single process: max(python worker RUSAGE_SELF, largest ffmpeg child "
          "RUSAGE_CHILDREN)")
    print("floor s = one plain encode of the output's size, rate and length with our settings, in this run")
    print(f"{'scenario':<14}{'ours s':>9}{'floor s':>9}{'ours/floor':>11}{'MoviePy s':>11}{'MoviePy/ours':>14}"
          f"{'ours MB':>9}{'MoviePy MB':>12}  aims")
    for scenario, _, _, _ in cases:
        ours, theirs = results[scenario, "ours"], results.get((scenario, "moviepy"))
        aims = []
        if scenario in AIMS:
            if theirs:
                ratio = theirs["wall"] / ours["wall"]
                aims.append(f">={AIMS[scenario]:g}x faster: {'met' if ratio >= AIMS[scenario] else 'MISSED'}")
            else:
                aims.append(f">={AIMS[scenario]:g}x faster: n/a")
        aims.append(f"peak <{AIM_PEAK_MB} MB: {'met' if ours['peak_mb'] < AIM_PEAK_MB else 'MISSED'}")
        floor = ours.get("floor")
        if floor:
            aims.append(f"<={AIM_FLOOR_RATIO:g}x floor: {'met' if ours['wall'] / floor <= AIM_FLOOR_RATIO else 'MISSED'}")
        print(f"{scenario:<14}{ours['wall']:>9.2f}"
              + (f"{floor:>9.2f}{ours['wall'] / floor:>10.2f}x" if floor else f"{'-':>9}{'-':>11}")
              + (f"{theirs['wall']:>11.2f}{theirs['wall'] / ours['wall']:>13.1f}x" if theirs else f"{'-':>11}{'-':>14}")
              + f"{ours['peak_mb']:>9.0f}" + (f"{theirs['peak_mb']:>12.0f}" if theirs else f"{'-':>12}")
              + "  " + "; ".join(aims))
    print("transcode s = a plain decode and re-encode of the same clips (cuts, no subtitles, narration as AAC) "
          "with our settings, in this run: the least a composer that decodes the clips can take")
    for scenario, _, _, _ in cases:
        ours = results[scenario, "ours"]
        if ours.get("transcode"):
            print(f"  {scenario:<14}transcode {ours['transcode']:.2f} s = {ours['transcode'] / ours['floor']:.2f}x floor;"
                  f" ours = {ours['wall'] / ours['transcode']:.2f}x transcode")
    print("details (tree MB = summed RSS of the worker and all its descendants, sampled every 0.2 s):")
    print(f"  {'scenario':<14}{'contender':<10}{'method':<13}{'output':>16}{'python MB':>11}{'ffmpeg MB':>11}"
          f"{'tree MB':>9}")
    for (scenario, contender), r in results.items():
        print(f"  {scenario:<14}{contender:<10}{r['method']:<13}{r['seconds']:>8.2f} s {r['frames']:>5}f"
              f"{r['python_mb']:>11.0f}{r['ffmpeg_mb']:>11.0f}{r['tree_mb']:>9.0f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
