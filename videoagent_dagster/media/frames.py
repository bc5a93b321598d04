"""The offline first-frame painter: a storyboard panel drawn with Pillow.

Each frame is painted from the style's palette, framed by shot type (an establishing shot
shows a wide, low horizon; a close-up fills the frame with its subject), and captioned with
the shot's title, so a viewer can tell the shots and the topic apart.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from videoagent_dagster.media.pictograms import compose, pictograms_for

CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{w}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{w}.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-{w}.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
_SC_INDEX = 2  # Simplified Chinese face inside the Noto Sans CJK collection; its Latin is full too.

# How far the camera is from the subject, by shot type: (horizon as fraction of height, subject scale).
FRAMING = {
    "aerial": (0.35, 0.25),
    "establishing": (0.62, 0.35),
    "wide": (0.66, 0.5),
    "medium": (0.72, 0.8),
    "over_the_shoulder": (0.72, 0.8),
    "close_up": (0.85, 1.3),
    "extreme_close_up": (0.95, 2.2),
}

SCENERY = {
    "nature": "hills", "documentary": "hills", "vintage": "hills", "cinematic": "skyline",
    "urban": "skyline", "futuristic": "neon", "commercial": "studio", "scifi": "space",
    "fantasy": "castle", "animated": "toy", "minimalist": "minimal", "artistic": "brush",
}


@lru_cache(maxsize=None)
def font_path(bold: bool = False) -> str:
    weight = "Bold" if bold else "Regular"
    for pattern in CJK_FONT_FILES:
        p = Path(pattern.format(w=weight))
        if p.exists():
            return str(p)
    raise FileNotFoundError(
        "No Noto Sans CJK font found; install it (Debian/Ubuntu: apt-get install -y fonts-noto-cjk)"
    )


@lru_cache(maxsize=64)
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = font_path(bold)
    index = _SC_INDEX if path.endswith(".ttc") and "Noto" in path else 0
    return ImageFont.truetype(path, size, index=index)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def render_frame(
    out: Path,
    width: int,
    height: int,
    *,
    style: str,
    palette: list[str],
    shot_type: str,
    title: str,
    label: str,
    seed: int,
    subject: str = "",
) -> None:
    """Paint one first frame to `out` (PNG): the style's scenery framed by shot type, pictograms of
    what `subject` (the shot's title and description) names, and the caption."""
    rng = random.Random(seed)
    cols = [hex_rgb(c) for c in palette] + [hex_rgb(palette[-1])] * max(0, 5 - len(palette))
    horizon, scale = FRAMING.get(shot_type, FRAMING["wide"])
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img, "RGBA")

    # Sky: a vertical gradient between the two darkest palette colours, lighter at the horizon.
    top, bottom = cols[0], mix(cols[1], cols[4], 0.35)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=mix(top, bottom, min(1.0, y / max(1, horizon * height))))

    scenery = SCENERY.get(style, "hills")
    painter = _PAINTERS[scenery]
    painter(draw, rng, width, height, cols, horizon, scale)

    if shot_type == "over_the_shoulder":
        # A dark shoulder and head in the near foreground, to one side.
        side = rng.choice((-1, 1))
        cx = width * (0.12 if side < 0 else 0.88)
        draw.ellipse([cx - width * 0.22, height * 0.55, cx + width * 0.22, height * 1.4], fill=(10, 10, 14, 235))
        draw.ellipse([cx - width * 0.09, height * 0.25, cx + width * 0.09, height * 0.62], fill=(10, 10, 14, 235))

    chars = pictograms_for(subject) if subject else []
    if chars:
        scene = img.convert("RGBA")
        if compose(scene, chars, shot_type, rng):
            img = scene.convert("RGB")
            draw = ImageDraw.Draw(img, "RGBA")

    if style == "vintage":
        img = _age(img, rng)
        draw = ImageDraw.Draw(img, "RGBA")
    if style in ("cinematic", "scifi") and width > height:
        bar = round(height * 0.06)  # letterbox
        draw.rectangle([0, 0, width, bar], fill=(0, 0, 0, 255))
        draw.rectangle([0, height - bar, width, height], fill=(0, 0, 0, 255))

    _caption(draw, width, height, title, label, cols)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, format="PNG", optimize=False, compress_level=1)


def reference_card(out: Path, width: int, height: int, *, name: str, kind: str, description: str,
                   colours: list[str], seed: int) -> None:
    """Paint a cast member's offline reference image (PNG): a card in its colours with its
    pictogram (from its name and description), its name and kind, and its description."""
    rng = random.Random(seed)
    cols = [hex_rgb(c) for c in colours] or [(90, 90, 90)]
    cols += [cols[-1]] * max(0, 3 - len(cols))
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img, "RGBA")
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=mix(mix(cols[0], (0, 0, 0), 0.35), cols[1], y / max(1, height)))
    chars = pictograms_for(f"{name}. {description}")
    if chars:
        scene = img.convert("RGBA")
        if compose(scene, chars[:1], "close_up", rng):
            img = scene.convert("RGB")
            draw = ImageDraw.Draw(img, "RGBA")
    size = max(12, round(min(width, height) * 0.08))
    font, small = load_font(size, bold=True), load_font(max(10, round(size * 0.5)))
    band = round(size * 2.4)
    draw.rectangle([0, 0, width, band], fill=(*cols[2], 230))
    draw.text((width / 2, band * 0.12), kind.upper(), font=small, fill=(0, 0, 0, 255), anchor="mt")
    draw.text((width / 2, band * 0.45), fit_text(name, font, width * 0.9), font=font, fill=(255, 255, 255, 255),
              anchor="mt", stroke_width=max(1, size // 18), stroke_fill=(0, 0, 0, 255))
    # the description, wrapped, along the bottom
    lines, line = [], ""
    for word in description.split(" ") if " " in description else list(description):
        trial = f"{line} {word}".strip() if " " in description else line + word
        if small.getlength(trial) > width * 0.9 and line:
            lines.append(line)
            line = word
        else:
            line = trial
    lines = (lines + [line])[:4]
    step = round(small.size * 1.3)
    top = height - step * len(lines) - round(size * 0.5)
    draw.rectangle([0, top - round(size * 0.3), width, height], fill=(0, 0, 0, 150))
    for k, text in enumerate(lines):
        draw.text((width / 2, top + k * step), text, font=small, fill=(255, 255, 255, 255), anchor="mt")
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, format="PNG", optimize=False, compress_level=1)


def _hills(draw, rng, w, h, cols, horizon, scale):
    sun_r = h * 0.09 * max(0.6, scale)
    sx, sy = w * rng.uniform(0.6, 0.85), h * horizon * rng.uniform(0.35, 0.6)
    for k in range(6, 0, -1):  # glow
        draw.ellipse([sx - sun_r * (1 + k * 0.25), sy - sun_r * (1 + k * 0.25),
                      sx + sun_r * (1 + k * 0.25), sy + sun_r * (1 + k * 0.25)], fill=(*cols[4], 18))
    draw.ellipse([sx - sun_r, sy - sun_r, sx + sun_r, sy + sun_r], fill=(*cols[4], 255))
    for layer in range(3):
        base = h * (horizon + layer * (1 - horizon) / 3.2)
        amp = h * 0.06 * scale * (1 + layer * 0.4)
        freq = rng.uniform(1.2, 2.4) / max(0.5, scale)
        phase = rng.uniform(0, math.tau)
        pts = [(x, base - amp * (0.5 + 0.5 * math.sin(phase + freq * math.tau * x / w))) for x in range(0, w + 8, 8)]
        draw.polygon(pts + [(w, h), (0, h)], fill=(*mix(cols[2], cols[0], 0.45 - layer * 0.2), 255))
    # Trees or figures on the nearest ridge, larger in closer shots.
    for _ in range(rng.randint(3, 7)):
        tx = rng.uniform(0, w)
        th = h * 0.12 * scale * rng.uniform(0.7, 1.3)
        ty = h * min(0.98, horizon + 0.18 + rng.uniform(0, 0.08))
        draw.polygon([(tx, ty - th), (tx - th * 0.35, ty), (tx + th * 0.35, ty)], fill=(*mix(cols[0], cols[2], 0.2), 255))


def _skyline(draw, rng, w, h, cols, horizon, scale, neon=False):
    ground = h * horizon
    x = -rng.uniform(0, w * 0.05)
    while x < w:
        bw = w * rng.uniform(0.05, 0.11) * scale
        bh = h * rng.uniform(0.2, 0.55) * scale
        body = mix(cols[0], cols[2], rng.uniform(0.1, 0.4))
        draw.rectangle([x, ground - bh, x + bw, h], fill=(*body, 255))
        win = max(3, int(bw / 6))
        for wy in range(int(ground - bh + win), int(h - win), win * 2):
            for wx in range(int(x + win * 0.6), int(x + bw - win), win * 2):
                if rng.random() < 0.45:
                    draw.rectangle([wx, wy, wx + win * 0.8, wy + win * 0.8], fill=(*cols[3], 210))
        if neon:
            draw.line([(x, ground - bh), (x + bw, ground - bh)], fill=(*cols[3], 255), width=max(2, h // 180))
        x += bw + w * rng.uniform(0.0, 0.02)
    if neon:
        for k in range(1, 12):  # perspective grid on the ground
            y = ground + (h - ground) * (k / 12) ** 1.6
            draw.line([(0, y), (w, y)], fill=(*cols[4], 120), width=1)
        for k in range(-10, 11):
            draw.line([(w / 2 + k * w * 0.02, ground), (w / 2 + k * w * 0.25, h)], fill=(*cols[4], 120), width=1)


def _neon(draw, rng, w, h, cols, horizon, scale):
    _skyline(draw, rng, w, h, cols, horizon, scale, neon=True)


def _studio(draw, rng, w, h, cols, horizon, scale):
    floor = h * horizon
    draw.rectangle([0, floor, w, h], fill=(*mix(cols[1], cols[2], 0.5), 255))
    r = h * 0.22 * scale
    cx, cy = w / 2, floor - r * 0.2
    draw.ellipse([cx - r * 1.3, floor - r * 0.12, cx + r * 1.3, floor + r * 0.12], fill=(0, 0, 0, 60))
    draw.rounded_rectangle([cx - r, cy - r * 1.6, cx + r, cy], radius=r * 0.25, fill=(*cols[4], 255))
    draw.rounded_rectangle([cx - r * 0.8, cy - r * 1.4, cx + r * 0.8, cy - r * 0.2], radius=r * 0.2, fill=(*cols[3], 255))
    for k in range(3):
        draw.ellipse([w * (0.15 + 0.3 * k) - 6, h * 0.1 - 6, w * (0.15 + 0.3 * k) + 6, h * 0.1 + 6], fill=(*cols[2], 180))


def _space(draw, rng, w, h, cols, horizon, scale):
    for _ in range(int(w * h / 2500)):
        x, y, s = rng.uniform(0, w), rng.uniform(0, h), rng.choice((1, 1, 1, 2))
        draw.ellipse([x, y, x + s, y + s], fill=(255, 255, 255, rng.randint(120, 255)))
    r = h * 0.28 * scale
    cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.35, 0.6)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*cols[2], 255))
    draw.ellipse([cx - r * 0.7, cy - r * 0.9, cx + r * 0.9, cy + r * 0.5], fill=(*mix(cols[2], cols[3], 0.4), 255))
    draw.arc([cx - r * 1.7, cy - r * 0.45, cx + r * 1.7, cy + r * 0.45], 160, 380, fill=(*cols[4], 230),
             width=max(2, int(r * 0.06)))
    mr = r * 0.2
    mx, my = cx + r * 1.6, cy - r * 0.9
    draw.ellipse([mx - mr, my - mr, mx + mr, my + mr], fill=(*cols[4], 255))


def _castle(draw, rng, w, h, cols, horizon, scale):
    _hills(draw, rng, w, h, cols, horizon, scale * 0.6)
    base = h * horizon + h * 0.02
    cw = w * 0.12 * scale
    cx = w * rng.uniform(0.35, 0.65)
    body = mix(cols[0], cols[1], 0.5)
    draw.rectangle([cx - cw, base - cw * 1.2, cx + cw, base], fill=(*body, 255))
    for tx in (cx - cw, cx + cw):
        draw.rectangle([tx - cw * 0.25, base - cw * 2.2, tx + cw * 0.25, base], fill=(*body, 255))
        draw.polygon([(tx - cw * 0.35, base - cw * 2.2), (tx + cw * 0.35, base - cw * 2.2), (tx, base - cw * 3)],
                     fill=(*cols[3], 255))
    for _ in range(40):
        x, y = rng.uniform(0, w), rng.uniform(0, h * horizon)
        draw.ellipse([x, y, x + 3, y + 3], fill=(*cols[4], rng.randint(100, 220)))


def _toy(draw, rng, w, h, cols, horizon, scale):
    draw.rectangle([0, h * horizon, w, h], fill=(*cols[0], 255))
    line = max(3, h // 90)
    for k in range(rng.randint(3, 5)):
        r = h * rng.uniform(0.1, 0.2) * scale
        x, y = rng.uniform(r, w - r), rng.uniform(h * 0.25, h * horizon)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(*cols[(k + 1) % 5], 255), outline=(20, 20, 20, 255), width=line)
        draw.ellipse([x - r * 0.35, y - r * 0.3, x - r * 0.15, y - r * 0.05], fill=(20, 20, 20, 255))
        draw.ellipse([x + r * 0.15, y - r * 0.3, x + r * 0.35, y - r * 0.05], fill=(20, 20, 20, 255))
        draw.arc([x - r * 0.4, y - r * 0.2, x + r * 0.4, y + r * 0.45], 20, 160, fill=(20, 20, 20, 255), width=line)


def _minimal(draw, rng, w, h, cols, horizon, scale):
    r = h * 0.22 * scale
    cx, cy = w * rng.choice((0.33, 0.5, 0.66)), h * 0.45
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*cols[3], 255))
    draw.line([(0, h * horizon), (w, h * horizon)], fill=(*cols[4], 255), width=max(2, h // 200))


def _brush(draw, rng, w, h, cols, horizon, scale):
    for _ in range(90):
        x, y = rng.uniform(-w * 0.1, w), rng.uniform(-h * 0.1, h)
        rw, rh = w * rng.uniform(0.05, 0.25) * scale, h * rng.uniform(0.02, 0.08) * scale
        draw.ellipse([x, y, x + rw, y + rh], fill=(*rng.choice(cols[1:]), rng.randint(60, 150)))


_PAINTERS = {"hills": _hills, "skyline": _skyline, "neon": _neon, "studio": _studio, "space": _space,
             "castle": _castle, "toy": _toy, "minimal": _minimal, "brush": _brush}


def _age(img: Image.Image, rng: random.Random) -> Image.Image:
    """Sepia, grain and a vignette, for the vintage style."""
    grey = img.convert("L")
    sepia = Image.merge("RGB", [grey.point(lambda v: min(255, int(v * 1.07 + 20))),
                                grey.point(lambda v: int(v * 0.88 + 12)),
                                grey.point(lambda v: int(v * 0.66))])
    w, h = img.size
    vignette = Image.new("L", (w, h), 0)
    ImageDraw.Draw(vignette).ellipse([-w * 0.15, -h * 0.2, w * 1.15, h * 1.2], fill=255)
    vignette = vignette.filter(ImageFilter.GaussianBlur(max(w, h) / 12))
    noise = Image.effect_noise((w, h), 28).convert("RGB")
    aged = Image.blend(sepia, noise, 0.06)
    return Image.composite(aged, Image.new("RGB", (w, h), (15, 10, 5)), vignette)


def _caption(draw: ImageDraw.ImageDraw, w: int, h: int, title: str, label: str, cols) -> None:
    """The shot's title, centred near the top inside the safe area that every camera move keeps
    in view; the bottom stays clear for subtitles."""
    size = max(12, round(min(w, h) * 0.06))
    font = load_font(size, bold=True)
    small = load_font(max(10, round(size * 0.55)))
    text = fit_text(title, font, w * 0.72)
    tb = draw.textbbox((0, 0), text, font=font)
    lb = draw.textbbox((0, 0), label, font=small)
    pad = round(size * 0.4)
    text_w, label_h, text_h = max(tb[2], lb[2]), lb[3] - lb[1], tb[3] - tb[1]
    top = round(h * 0.13)
    left = round((w - text_w) / 2)
    draw.rounded_rectangle([left - pad, top - pad, left + text_w + pad, top + label_h + pad * 0.6 + text_h + pad * 1.4],
                           radius=pad, fill=(0, 0, 0, 140))
    draw.text((w / 2, top), label, font=small, fill=(*cols[4], 255), anchor="mt")
    draw.text((w / 2, top + label_h + pad * 0.6), text, font=font, fill=(255, 255, 255, 255), anchor="mt",
              stroke_width=max(1, size // 18), stroke_fill=(0, 0, 0, 255))


def fit_text(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    """Shorten text with an ellipsis until it fits on one line."""
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def contact_sheet(frames: list[Path], out: Path, columns: int = 4, thumb_width: int = 320,
                  marks: list[tuple[str, bool]] | None = None) -> None:
    """A grid of first frames, numbered, as one PNG. `marks`: a note under each frame (the quality
    checker's score), and whether to flag it (in red: under the threshold)."""
    thumbs = []
    for p in frames:
        with Image.open(p) as im:
            ratio = thumb_width / im.width
            thumbs.append(im.convert("RGB").resize((thumb_width, max(1, round(im.height * ratio)))))
    cols = min(columns, len(thumbs))
    rows = math.ceil(len(thumbs) / cols)
    th = max(t.height for t in thumbs)
    gap = 8
    sheet = Image.new("RGB", (cols * (thumb_width + gap) + gap, rows * (th + gap) + gap), (24, 24, 24))
    font = load_font(18, bold=True)
    draw = ImageDraw.Draw(sheet)
    for i, t in enumerate(thumbs):
        x, y = gap + (i % cols) * (thumb_width + gap), gap + (i // cols) * (th + gap)
        sheet.paste(t, (x, y))
        draw.text((x + 6, y + th - 26), f"{i + 1}", font=font, fill=(255, 255, 255), stroke_width=2,
                  stroke_fill=(0, 0, 0))
        if marks and marks[i][0]:
            note, flagged = marks[i]
            colour = (235, 64, 52) if flagged else (255, 255, 255)
            draw.text((x + thumb_width - 6, y + th - 26), note, font=font, fill=colour, stroke_width=2,
                      stroke_fill=(0, 0, 0), anchor="ra")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")


def preview_jpeg(image: Path, width: int) -> bytes:
    """A small JPEG of an image, for showing inline (e.g. in asset metadata)."""
    import io

    with Image.open(image) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, max(1, round(im.height * width / im.width))))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=80)
        return buf.getvalue()


def fit_image(data: bytes, out: Path, width: int, height: int) -> None:
    """A vendor's image, scaled to cover width x height and centre-cropped, saved as PNG."""
    import io

    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        scale = max(width / im.width, height / im.height)
        resized = im.resize((max(width, round(im.width * scale)), max(height, round(im.height * scale))),
                            Image.Resampling.LANCZOS)
        left, top = (resized.width - width) // 2, (resized.height - height) // 2
        out.parent.mkdir(parents=True, exist_ok=True)
        resized.crop((left, top, left + width, top + height)).save(out, format="PNG")
