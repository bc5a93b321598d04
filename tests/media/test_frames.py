import numpy as np
from PIL import Image, ImageDraw

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media.frames import contact_sheet, load_font, render_frame


def test_frames_at_target_size_differ_by_style_and_shot_type(tmp_path):
    paths = []
    for i, (style, shot_type) in enumerate([("nature", "establishing"), ("nature", "close_up"),
                                             ("urban", "medium"), ("scifi", "wide")]):
        p = tmp_path / f"{i}.png"
        render_frame(p, 640, 360, style=style, palette=list(CATALOGUE[style].palette), shot_type=shot_type,
                     title="Wildlife in Africa", label=f"SHOT {i + 1}", seed=i)
        paths.append(p)
        assert Image.open(p).size == (640, 360)
    arrays = [np.asarray(Image.open(p).convert("L"), dtype=int) for p in paths]
    for a in range(len(arrays)):
        for b in range(a + 1, len(arrays)):
            assert np.abs(arrays[a] - arrays[b]).mean() > 5
    contact_sheet(paths, tmp_path / "sheet.png", columns=2, thumb_width=160)
    assert Image.open(tmp_path / "sheet.png").size == (2 * 168 + 8, 2 * 98 + 8)


def _glyph(text: str) -> np.ndarray:
    font = load_font(48)
    img = Image.new("L", (80, 80))
    ImageDraw.Draw(img).text((10, 5), text, font=font, fill=255)
    return np.asarray(img) > 128


def test_chinese_renders_as_glyphs_not_boxes():
    tofu = _glyph("\U000f0000")  # a private-use code point: drawn as the missing-glyph box, if at all
    glyphs = [_glyph(c) for c in "野生动物"]
    for g in glyphs:
        assert g.sum() > 100
        assert (g != tofu).sum() > 100
    assert (glyphs[0] != glyphs[1]).sum() > 100  # distinct characters, distinct shapes
