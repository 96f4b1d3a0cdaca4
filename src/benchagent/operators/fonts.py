"""Text pages for rendered images: real TrueType fonts found on the system, word wrapping,
page styles and drawing.

Fonts are looked up by file name under the usual font folders ($BENCHAGENT_FONT_DIRS, an
os.pathsep-separated list, overrides them). Without any, Pillow's bundled scalable font is used,
so rendering never fails for lack of fonts.
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from benchagent.operators.registry import OperatorError

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]
MIN_FONT = 14

DEFAULT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
DEFAULT_FONT_ID = "pillow-default"

# Families by preference; the first file present wins.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "serif": ("DejaVuSerif.ttf", "LiberationSerif-Regular.ttf", "NotoSerif-Regular.ttf",
              "FreeSerif.ttf"),
    "sans": ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf",
             "FreeSans.ttf"),
    "sans-bold": ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "NotoSans-Bold.ttf",
                  "FreeSansBold.ttf"),
    "mono": ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "NotoSansMono-Regular.ttf",
             "FreeMono.ttf"),
    "italic": ("DejaVuSerif-Italic.ttf", "LiberationSerif-Italic.ttf", "NotoSerif-Italic.ttf",
               "FreeSerifItalic.ttf", "DejaVuSans-Oblique.ttf"),
}


def font_dirs() -> tuple[str, ...]:
    env = os.environ.get("BENCHAGENT_FONT_DIRS")
    return tuple(env.split(os.pathsep)) if env is not None else DEFAULT_DIRS


@lru_cache(maxsize=8)
def _index(dirs: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in dirs:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in {".ttf", ".otf"}:
                found.setdefault(path.name, path)
    return found


def font_path(family: str) -> Path | None:
    """The font file used for `family` (serif, sans, sans-bold, mono, italic), if any."""
    index = _index(font_dirs())
    for name in CANDIDATES.get(family, ()):
        if name in index:
            return index[name]
    return None


def font_id(family: str) -> str:
    """What identifies the font in cache keys: file name and size, or the Pillow default."""
    path = font_path(family)
    return f"{path.name}:{path.stat().st_size}" if path else DEFAULT_FONT_ID


_LOCAL = threading.local()  # FreeType faces must not be shared between threads


def _load(path: str | None, size: int) -> Font:
    fonts: dict[tuple[str | None, int], Font] = _LOCAL.__dict__.setdefault("fonts", {})
    if (path, size) not in fonts:
        fonts[(path, size)] = _open_font(path, size)
    return fonts[(path, size)]


def _open_font(path: str | None, size: int) -> Font:
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def load_font(family: str, size: int) -> Font:
    path = font_path(family)
    return _load(str(path) if path else None, size)


def missing_glyphs(font: Font, text: str) -> list[str]:
    """Characters of `text` the font draws as its 'missing glyph' box."""
    if not isinstance(font, ImageFont.FreeTypeFont):
        return sorted({c for c in text if not (c.isascii() and (c.isprintable() or c.isspace()))})
    notdef = bytes(font.getmask("\U0010fffd"))
    return sorted({c for c in text if not c.isascii() and not c.isspace()
                   and bytes(font.getmask(c)) == notdef})


@dataclass(frozen=True)
class Line:
    text: str
    indent: int = 0
    gap_before: bool = False  # a paragraph break precedes this line


def _split_word(word: str, font: Font, width: float) -> list[str]:
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    return [*pieces, current] if current else pieces


def wrap(text: str, font: Font, width: float) -> list[str]:
    """Greedy word wrap of one paragraph to `width` pixels; overlong words are split."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = _split_word(word, font, width) if font.getlength(word) > width else [word]
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class Block:
    text: str
    prefix: str = ""  # e.g. "A. ", drawn before the first line, with a hanging indent
    gap_before: bool = True


def layout(blocks: list[Block], font: Font, width: float) -> list[Line]:
    """The wrapped lines of `blocks` within `width` pixels."""
    lines: list[Line] = []
    for block in blocks:
        indent = int(font.getlength(block.prefix)) if block.prefix else 0
        wrapped = wrap(block.text, font, width - indent) or [""]
        for i, text in enumerate(wrapped):
            first = i == 0
            lines.append(Line(text=(block.prefix + text) if first else text,
                              indent=0 if first else indent,
                              gap_before=first and block.gap_before and bool(lines)))
    return lines


# ---------------------------------------------------------------- pages of text


@dataclass(frozen=True)
class Style:
    family: str
    size: int
    width: int
    palettes: tuple[tuple[RGB, RGB], ...]  # (background, ink)
    margin: int
    spacing: float  # line height / font size
    ruled: bool = False  # lined paper, words drawn with a small jitter
    banner: bool = False  # a solid bar along the top edge


STYLES: dict[str, Style] = {
    "document": Style("serif", 22, 800, (((255, 255, 255), (0, 0, 0)),
                                         ((250, 248, 240), (25, 25, 25))), 48, 1.45),
    "slide": Style("sans-bold", 34, 1024, (((25, 55, 110), (255, 255, 255)),
                                           ((0, 105, 92), (255, 255, 240)),
                                           ((90, 40, 120), (255, 235, 150)),
                                           ((245, 205, 90), (30, 30, 30))), 64, 1.35,
                   banner=True),
    "receipt": Style("mono", 18, 520, (((252, 250, 242), (35, 35, 35)),
                                       ((255, 255, 255), (60, 60, 70))), 28, 1.4),
    "handwriting": Style("italic", 24, 800, (((250, 250, 245), (20, 40, 140)),
                                             ((255, 253, 231), (40, 40, 40))), 56, 1.7,
                         ruled=True),
    "dark": Style("sans", 20, 800, (((30, 30, 30), (220, 220, 220)),
                                    ((13, 17, 23), (201, 209, 217))), 40, 1.5),
}


def fit_page(blocks: list[Block], style: Style, width: int) -> tuple[Font, list[Line], int]:
    """The largest font size (≤ the style's) at which the text fits the height limit."""
    max_height = max(3 * width, 2400)
    size = style.size
    while True:
        font = load_font(style.family, size)
        lines = layout(blocks, font, width - 2 * style.margin)
        if _page_height(lines, size, style) <= max_height:
            return font, lines, size
        if size <= MIN_FONT:
            chars = sum(len(b.prefix) + len(b.text) for b in blocks)
            raise OperatorError(f"text too long to render legibly ({chars} chars)")
        size = max(MIN_FONT, int(size * 0.85))


def _metrics(size: int, style: Style) -> tuple[int, int]:
    line = round(size * style.spacing)
    return line, line if style.ruled else line // 2


def _page_height(lines: list[Line], size: int, style: Style) -> int:
    line, gap = _metrics(size, style)
    top = style.margin + (16 if style.banner else 0)
    return top + style.margin + sum(line + (gap if x.gap_before else 0) for x in lines)


def draw_page(lines: list[Line], font: Font, size: int, style: Style, width: int,
              palette: tuple[RGB, RGB], seed: int) -> Image.Image:
    background, ink = palette
    img = Image.new("RGB", (width, _page_height(lines, size, style)), background)
    draw = ImageDraw.Draw(img)
    line_h, gap = _metrics(size, style)
    y = style.margin
    if style.banner:
        draw.rectangle((0, 0, width, 16), fill=ink)
        y += 16
    if style.ruled:
        rule = tuple((2 * b + c) // 3 for b, c in zip(background, (120, 160, 220), strict=True))
        for rule_y in range(y + round(size * 1.2), img.height - style.margin // 2, line_h):
            draw.line((0, rule_y, width, rule_y), fill=rule, width=1)
    jitter = random.Random(seed)
    for line in lines:
        y += gap if line.gap_before else 0
        x = style.margin + line.indent
        if not style.ruled:
            draw.text((x, y), line.text, font=font, fill=ink)
        else:
            for word in line.text.split(" "):
                draw.text((x, y + jitter.randint(-2, 2)), word, font=font, fill=ink)
                x += round(font.getlength(word + " ")) + jitter.randint(-1, 2)
        y += line_h
    return img
