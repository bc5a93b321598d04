"""The picture of the final cut: clips joined end to end by cuts or transitions (crossfade,
fade_black, slide, wipe), and whether they can be joined by stream copy instead of encoding."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from videoagent_dagster.media.probe import video_signature
from videoagent_dagster.media.run import Input, ffmpeg

BLENDS = ("crossfade", "fade_black", "slide", "wipe")  # every transition but the cut


def check_joins(clips: list[Path], joins: list[tuple[str, int]] | None) -> list[tuple[str, int]]:
    """`joins` as a list (every join a cut when None), refused if it does not fit the clips."""
    if not clips:
        raise ValueError("compose: no clips to join")
    joins = [("cut", 0)] * (len(clips) - 1) if joins is None else list(joins)
    if len(joins) != len(clips) - 1:
        raise ValueError(f"compose: {len(clips)} clips need {len(clips) - 1} joins, got {len(joins)}")
    unknown = sorted({kind for kind, _ in joins} - {"cut", *BLENDS})
    if unknown:
        raise ValueError(f"compose: unknown transition(s) {', '.join(unknown)}; known: cut, {', '.join(BLENDS)}")
    return joins


def concat_list(clips: list[Path]) -> str:
    """The clips as an ffmpeg concat demuxer list."""
    return "".join(f"file '{_concat_escape(c)}'\n" for c in clips)


def _heads_list(clips: list[Path], heads: list[tuple[int, int, int]], fps: int) -> str:
    """A concat list of only the heads, (clip, head frames, clip frames) each: every clip read up to
    the end of its head (`outpoint`; B-frames may bring a few frames past it), yet placed on the
    timeline as long as the whole clip (`duration`), so those few never collide with the next head."""
    return "".join(f"file '{_concat_escape(clips[i])}'\noutpoint {head / fps:.6f}\nduration {frames / fps:.6f}\n"
                   for i, head, frames in heads)


def _concat_escape(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")


def fill_signatures(clips: list[Path], signatures: list[dict], which: list[int]) -> None:
    """Fill in the video_signature of the clips at `which`, several at a time (a probe is mostly
    process start-up)."""
    if not which:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(which))) as pool:
        for i, sig in zip(which, pool.map(lambda i: video_signature(clips[i]), which)):
            signatures[i] = {**signatures[i], **sig}


def why_encode(joins: list[tuple[str, int]], burn: Path | None) -> str:
    """Why the picture must be encoded whatever the clips are ('' when a stream copy may do)."""
    if burn is not None:
        return "subtitles are burned into the picture"
    transitions = sorted({kind for kind, frames in joins if kind != "cut" and frames > 0})
    if transitions:
        return f"transitions ({', '.join(transitions)}) blend shots"
    return ""


def why_not_stream_copy(signatures: list[dict], fps: int, width: int, height: int) -> str:
    """Why clips with these signatures cannot simply be joined by stream copy ('' when they can)."""
    first = signatures[0]
    for i, sig in enumerate(signatures):
        fmt = (sig.get("codec_name"), sig.get("pix_fmt"), sig.get("width"), sig.get("height"))
        if fmt != ("h264", "yuv420p", width, height) or float(Fraction(sig.get("r_frame_rate") or "0/1")) != fps:
            return (f"clip {i + 1} is {sig.get('codec_name')}/{sig.get('pix_fmt')} {sig.get('width')}x"
                    f"{sig.get('height')} at {sig.get('r_frame_rate')}, not h264/yuv420p {width}x{height} at {fps}")
        same = ("profile", "time_base", "extradata_hash")
        if any(sig.get(k) != first.get(k) for k in same):
            return f"clip {i + 1} was encoded with other settings than clip 1"
    return ""


@dataclass(frozen=True)
class _Window:
    """A transition on the output timeline: output frames [start, start + frames)."""

    kind: str
    start: int
    frames: int
    fps: int

    def span(self, first: int = 0) -> str:
        """between() over output seconds for window frames first..frames-1 (by frame centres)."""
        return f"between(t,{(self.start + first - 0.5) / self.fps:.6f},{(self.start + self.frames - 0.5) / self.fps:.6f})"


def _transition_plan(signatures: list[dict], joins: list[tuple[str, int]], fps: int) -> tuple[list[tuple[int, int]], list[_Window]]:
    """Where the heads of incoming clips sit in the joined stream (first frame, frames) and the
    windows they blend into on the output timeline.

    The joined stream runs every clip end to end. The picture is that stream without the heads;
    each head, moved onto the end of the clip before it, is laid over it by the transition."""
    heads, windows, at, out, previous = [], [], 0, 0, 0
    for i, sig in enumerate(signatures):
        frames = _frames(sig)
        head = 0
        if i > 0:
            kind, overlap = joins[i - 1]
            head = min(overlap, frames - 1, previous - 1) if kind != "cut" else 0
            if head > 0:
                heads.append((at, head))
                windows.append(_Window(kind, out - head, head, fps))
        out += frames - head
        at += frames
        previous = frames - head
    return heads, windows


def _between_frames(ranges: list[tuple[int, int]]) -> str:
    return "+".join(f"between(n,{a},{a + k - 1})" for a, k in ranges)


def picture_graph(clips: list[Path], signatures: list[dict], joins: list[tuple[str, int]], fps: int, width: int,
                  height: int, burn: str | None, read: Callable[[str], Input]) -> str:
    """The filter graph over the joined clips, out as [vout]. `read(listing)` adds a concat reader
    of that list to the command and returns its handle: called once with every clip, and again
    with only the incoming heads when there are transitions. `burn` names an ASS file to draw in
    (a plain name: it is not escaped).

    Transitions use two decoders whatever the number of shots: the picture (every frame but the
    incoming heads) and the heads (only they are decoded, when the clips are at the output's rate),
    shifted to their windows and laid over the picture — alpha-faded
    (crossfade), after a fade to black (fade_black), moving in from the right (slide) or revealed
    behind a moving edge (wipe). Memory stays flat as the video grows."""
    at_rate = all(float(Fraction(sig.get("r_frame_rate") or "0/1")) == fps for sig in signatures)
    norm = (("" if at_rate else f"fps={fps},") + f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1,format=yuv420p,settb=1/{fps}")
    tail = (f"ass={burn}," if burn else "") + "format=yuv420p[vout]"
    heads, windows = _transition_plan(signatures, joins, fps)
    picture = read(concat_list(clips))
    if not windows:
        return f"{picture.v}{norm},{tail}"
    chains = [f"{picture.v}{norm},select='not({_between_frames(heads)})',setpts=N"]
    # Head frame N of the selected heads goes to its window: a piecewise-constant offset.
    offset, done = [f"{windows[0].start}"], heads[0][1]
    for k in range(1, len(windows)):
        offset.append(f"gte(N,{done})*{windows[k].start - windows[k - 1].start - heads[k - 1][1]}")
        done += heads[k][1]
    shift = f"setpts='N+{'+'.join(offset)}',format=yuva420p"
    if at_rate:  # a reader of the heads alone, each picked by its time on that reader's timeline
        spans, listed, at, start = [], [], 0, 0
        head_at = dict(heads)  # joined-stream frame -> head frames
        for i, sig in enumerate(signatures):
            frames = _frames(sig)
            if head_at.get(start):
                listed.append((i, head_at[start], frames))
                spans.append(f"between(t,{(at - 0.5) / fps:.6f},{(at + head_at[start] - 0.5) / fps:.6f})")
                at += frames
            start += frames
        s = [f"{read(_heads_list(clips, listed, fps)).v}select='{'+'.join(spans)}',{norm},{shift}"]
    else:  # the fps filter renumbers frames: every frame decoded, the heads picked by number
        s = [f"{read(concat_list(clips)).v}{norm},select='{_between_frames(heads)}',{shift}"]
    wipes = [w for w in windows if w.kind == "wipe"]
    if wipes:  # the heads' alpha from a mask whose edge moves across each wipe window
        total = windows[-1].start + windows[-1].frames
        # The black part (hidden) shrinks towards the left: the new shot is revealed from the right, as a slide enters.
        sweep = "+".join(f"{w.span()}*-W*(t*{fps}-{w.start - 1})/{w.frames + 1}" for w in wipes)
        chains.append(f"color=white:s={width}x{height}:r={fps}:d={(total + 1) / fps:.6f},format=gray,settb=1/{fps}[mw];"
                      f"color=black:s={width}x{height}:r={fps},format=gray,settb=1/{fps}[mb];"
                      f"[mw][mb]overlay=x='if({'+'.join(w.span() for w in wipes)},{sweep},W)':y=0:shortest=1[mask]")
        s[0] = s[0] + "[s0];[s0][mask]alphamerge"
    for w in windows:
        step = 1 / fps
        if w.kind == "crossfade":
            s.append(f"fade=t=in:st={(w.start - 1) * step:.6f}:d={(w.frames + 1) * step:.6f}:alpha=1:"
                     f"enable='{w.span()}'")
        elif w.kind == "fade_black":
            half = w.frames // 2
            chains[0] += (f",fade=t=out:st={(w.start - 1) * step:.6f}:d={(half + 1) * step:.6f}:"
                          f"enable='{w.span()}'")
            s.append(f"fade=t=in:st={(w.start + half - 1) * step:.6f}:d={(w.frames - half + 1) * step:.6f}:"
                     f"enable='{w.span()}'")
    chains[0] += "[p]"
    chains.append(",".join(s) + "[s]")
    shown = "+".join(w.span(w.frames // 2 if w.kind == "fade_black" else 0) for w in windows)
    slides = [w for w in windows if w.kind == "slide"]
    x = "+".join(f"{w.span()}*W*(1-(t*{fps}-{w.start - 1})/{w.frames + 1})" for w in slides) or "0"
    chains.append(f"[p][s]overlay=x='{x}':y=0:enable='{shown}':eof_action=pass,{tail}")
    return ";".join(chains)


def _frames(signature: dict) -> int:
    n = str(signature.get("nb_frames", ""))
    if n.isdigit():
        return int(n)
    raise ValueError("compose: a clip's frame count is unknown (not an MP4 with a frame index?)")


def thumbnail(video: Path, out: Path, at: float, width: int | None = None) -> None:
    """A JPEG of the frame at `at` seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    vf = ["-vf", f"scale={width}:-2"] if width else []
    ffmpeg(["-ss", f"{max(0.0, at):.3f}", "-i", str(video), "-frames:v", "1", *vf, "-q:v", "3", "-f", "image2",
            str(out)], what="writing the thumbnail")
