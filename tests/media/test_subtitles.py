"""Subtitles: cues split and lines broken by measuring the text (kinsoku for CJK), SRT and ASS
written by pysubs2, drawn by libass inside each shape's safe margins."""

import pysubs2
import pytest

from videoagent_dagster.media.subtitles import (
    Cue,
    cues_for_line,
    cues_for_lines,
    layout_for,
    split_text,
    wrap,
    write_ass,
    write_srt,
)


def test_split_text_at_sensible_points():
    parts = split_text("One sentence here. Another, longer sentence follows it, with a clause.", 30)
    assert parts[0] == "One sentence here." and all(len(p) <= 30 for p in parts)
    zh = split_text("非洲草原上的野生动物正在迁徙，场面非常壮观。", 8)
    assert all(len(p) <= 8 for p in zh) and "".join(zh) == "非洲草原上的野生动物正在迁徙，场面非常壮观。"


def test_cues_srt_and_ass(tmp_path):
    cues = cues_for_line("First part. Second part here.", 2.0, 3.0, 15)
    assert cues[0].start == 2.0 and abs(cues[-1].end - 5.0) < 0.01
    write_srt([Cue(0, 1.5, "Hello"), Cue(61.25, 3723.5, "非洲")], tmp_path / "s.srt")
    # Every block ends with a blank line, the last one too (pysubs2 writes SRT so).
    assert (tmp_path / "s.srt").read_text(encoding="utf-8") == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:01:01,250 --> 01:02:03,500\n非洲\n\n")
    write_ass([Cue(0, 1, "a {\\b1} b")], tmp_path / "s.ass", 320, 180)
    ass = (tmp_path / "s.ass").read_text(encoding="utf-8")
    assert "PlayResX: 320" in ass and "Noto Sans CJK SC" in ass and "{\\b1}" not in ass


def test_srt_and_ass_carry_the_cues_text_and_timings(tmp_path):
    """Read back by a parser, both files hold every cue: SRT to the millisecond, word for word (a
    brace stays a brace); ASS to the centisecond, its lines as wrap() broke them and its style as
    the layout says."""
    cues = cues_for_lines([(LONG["ja"], 0.5, 4.2), (LONG["en"], 5.0, 5.0), ("Braces {like} this.", 10.0, 1.0)],
                          480, 854)
    write_srt(cues, tmp_path / "s.srt")
    write_ass(cues, tmp_path / "s.ass", 480, 854)
    srt, ass = pysubs2.load(str(tmp_path / "s.srt")), pysubs2.load(str(tmp_path / "s.ass"))
    assert [(e.start, e.end, e.text) for e in srt] == [(round(c.start * 1000), round(c.end * 1000), c.text)
                                                            for c in cues]
    layout = layout_for(480, 854)
    assert len(ass) == len(cues)
    for event, cue in zip(ass, cues):
        assert abs(event.start - cue.start * 1000) <= 5 and abs(event.end - cue.end * 1000) <= 5
        assert event.text.split("\\N") == wrap(cue.text.replace("{", "(").replace("}", ")"), layout)
    style = ass.styles["Default"]
    assert (style.fontname, style.fontsize, style.bold, style.alignment) == ("Noto Sans CJK SC", layout.font_size,
                                                                          True, pysubs2.Alignment.BOTTOM_CENTER)
    assert (style.marginl, style.marginr, style.marginv) == (layout.margin_h, layout.margin_h, layout.margin_v)
    assert ass.info["WrapStyle"] == "2" and (ass.info["PlayResX"], ass.info["PlayResY"]) == ("480", "854")


def _burn(tmp_path, text, width, height, name="s"):
    """A black picture with `text` burned in by libass; returns it as a grey array."""
    import subprocess

    import numpy as np

    ass = tmp_path / f"{name}.ass"
    write_ass([Cue(0, 2, text)], ass, width, height)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=black:size={width}x{height}:d=1",
                          "-vf", f"ass={ass.name}", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         cwd=tmp_path, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width)


def _text_rows(ink) -> int:
    """Separate bands of rows holding ink: the number of lines drawn."""
    rows = ink.any(axis=1)
    return int(rows[0]) + int(((~rows[:-1]) & rows[1:]).sum())


LONG = {
    "en": "The quick brown fox jumps over the lazy dog while the river runs on to the distant sea.",
    "zh": "非洲草原上的野生动物正在迁徙，成千上万的角马和斑马穿越河流，场面非常壮观。",
    "ja": "ジャングルの動物たちは、夜になると静かに水辺へ集まってきます。",
}


@pytest.mark.parametrize(("width", "height"), [(854, 480), (480, 854), (480, 480)])
@pytest.mark.parametrize("language", ["en", "zh", "ja"])
def test_subtitles_fit_each_shape_in_at_most_two_lines(tmp_path, width, height, language):
    layout = layout_for(width, height)
    cues = cues_for_lines([(LONG[language], 0.0, 6.0)], width, height)
    assert "".join(c.text for c in cues).replace(" ", "") == LONG[language].replace(" ", "")
    for i, cue in enumerate(cues):
        assert len(wrap(cue.text, layout)) <= 2
        ink = _burn(tmp_path, cue.text, width, height, f"c{i}") > 128
        ys, xs = ink.nonzero()
        assert len(xs) > 200, "nothing drawn"
        # Inside the safe margins (the outline may reach a few pixels past the text box).
        slack = 4
        assert xs.min() >= layout.margin_h - slack and xs.max() <= width - layout.margin_h + slack
        assert ys.max() <= height - layout.margin_v + slack
        assert _text_rows(ink) <= 2


def test_vertical_subtitles_sit_above_the_app_controls():
    wide, tall = layout_for(1920, 1080), layout_for(1080, 1920)
    assert tall.margin_v >= 0.18 * 1920 and wide.margin_v < 0.1 * 1080
    assert tall.margin_h > wide.margin_h * 1080 / 1920


def test_lines_break_at_sensible_points():
    tall = layout_for(480, 854)
    zh = wrap(LONG["zh"][:30], tall)
    assert zh[0].endswith("，")  # after the clause, not inside a word
    ja = wrap(LONG["ja"], layout_for(480, 480))
    assert ja[0].endswith("、") and not any(line[0] in "、。ーっ" for line in ja)  # kinsoku: no line starts so
    en = wrap(LONG["en"], tall)
    assert all(not line.startswith(" ") and not line.endswith(" ") for line in en)
    assert " ".join(en) == LONG["en"]


def test_japanese_and_chinese_subtitles_draw_glyphs_not_boxes(tmp_path):
    import numpy as np

    def picture(text, name):
        return _burn(tmp_path, text, 640, 360, name).astype(int)

    for name, text in (("ja", "ひらがなカタカナ"), ("zh", "汉字字幕"), ("en", "Subtitles")):
        drawn = picture(text, name) > 128
        # The same number of private-use characters: drawn as missing-glyph boxes, if at all.
        tofu = picture("".join(chr(0xF0000 + i) for i in range(len(text))), f"tofu-{name}") > 128
        assert drawn.sum() > 300, name
        assert (drawn != tofu).sum() > 0.5 * drawn.sum(), name
    # Different characters give different pictures: not one box repeated.
    assert np.abs(picture("あいう", "a") - picture("かきく", "b")).sum() > 10000
