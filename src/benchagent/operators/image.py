"""Image operators: render text to images, degrade and crop them (Pillow); composing images
is in panels.py, OCR in ocr.py.

Every operator here is deterministic given its arguments and the draws it makes from ctx.rng,
so outputs are cached on disk by content hash (operators/cache.py).
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter
from pydantic import BeforeValidator, Field, model_validator

from benchagent.operators.args import OperatorArgs, Whole, accepts_whole_floats
from benchagent.operators.cache import cache_key, cached_bytes
from benchagent.operators.fonts import (
    RGB,
    STYLES,
    Block,
    draw_page,
    fit_page,
    font_id,
    load_font,
    missing_glyphs,
)
from benchagent.operators.media import store_bytes
from benchagent.operators.registry import (
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    register,
)
from benchagent.records import FieldRole

VERSION = "image-ops-1"  # bump when any operator's output for the same input changes

PROMPT = "Answer the question shown in the image."
PROMPT_OPTIONS = "Answer the question shown in the image by choosing one of the options shown."
FIELDS = ("question", "context", "options")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ---------------------------------------------------------------- helpers


def read_image(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OperatorError(f"cannot read image {path.name}: {exc.strerror}") from exc


def open_image(data: bytes, name: str) -> Image.Image:
    """The image in `data` as RGB (transparency flattened onto white)."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise OperatorError(f"not a readable image: {name} ({exc})") from exc
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def encode_image(img: Image.Image, fmt: str = "PNG", quality: int = 90) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, format="JPEG", quality=quality)
    else:
        img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def named(aliases: dict[str, str] | None = None) -> BeforeValidator:
    """Choice names read leniently: case, spaces, '_' for '-', and `aliases` of the names."""
    def canonical(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        name = value.strip().lower().replace("_", "-")
        return (aliases or {}).get(name, name)
    return BeforeValidator(canonical)


def seeded(name: str, allowed: tuple[str, ...], ctx: OpContext) -> str:
    """`name`, or for "auto" a choice among `allowed` drawn from the run's rng."""
    return ctx.rng.choice(allowed) if name == "auto" else name


ImageIndex = Whole | None
_INDEX = "only this image of the sample (negative counts from the end); default every image"


def image_indices(state: SampleState, index: int | None) -> list[int]:
    if not state.images:
        raise OperatorError("the sample has no image")
    if index is None:
        return list(range(len(state.images)))
    if not -len(state.images) <= index < len(state.images):
        raise OperatorError(f"image index {index} out of range ({len(state.images)} images)")
    return [index % len(state.images)]


# ---------------------------------------------------------------- render_text_image


STYLE_ALIASES = {"monospace": "receipt", "mono": "receipt", "handwriting-like": "handwriting",
                 "screen-dark": "dark", "dark-mode": "dark", "screen-dark-mode": "dark"}


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.replace("\r", "\n").split("\n") if p.strip()]


def _blocks(state: SampleState, fields: list[str]) -> list[Block]:
    blocks: list[Block] = []
    if "context" in fields:
        blocks += [Block(p) for p in _paragraphs(state.context)]
    if "question" in fields:
        label = "Question: " if blocks else ""
        blocks += [Block(label + p) for p in _paragraphs(state.question)]
    if "options" in fields and state.options:
        if len(state.options) > len(LETTERS):
            raise OperatorError(f"too many options to letter ({len(state.options)})")
        blocks += [Block(" ".join(o.split()), f"{LETTERS[i]}. ", i == 0)
                   for i, o in enumerate(state.options)]
    return blocks


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RenderArgs(OperatorArgs):
    fields: Annotated[list[Literal["question", "context", "options"]], BeforeValidator(_listed)] = \
        Field(["question", "context"], min_length=1, description="the text fields to render")
    style: Annotated[Literal["auto", "document", "slide", "receipt", "handwriting", "dark"],
                     named(STYLE_ALIASES)] = Field("auto", description="the look; auto: seeded")
    width: Annotated[int, Field(ge=240, le=4000), accepts_whole_floats] | None = Field(
        None, description="page width in px; default per style: 800, slide 1024, receipt 520")
    replace: bool = Field(True, description="remove the rendered fields from the text; rendered "
                                            "options leave their letters as options and answer")


def render_text_image(state: SampleState, ctx: OpContext, args: RenderArgs) -> SampleState:
    fields: list[str] = list(args.fields)
    style_name = seeded(args.style, tuple(STYLES), ctx)
    style = STYLES[style_name]
    palette = ctx.rng.randrange(len(style.palettes))
    seed = ctx.rng.getrandbits(32)
    width = style.width if args.width is None else args.width
    blocks = _blocks(state, fields)
    if not blocks:
        raise OperatorError(f"nothing to render: {', '.join(fields)} empty")
    shown = "\n".join(b.prefix + b.text for b in blocks)
    missing = missing_glyphs(load_font(style.family, style.size), shown)
    if missing:
        raise OperatorError(f"the {style.family} font cannot draw: {''.join(missing[:20])}")
    key = cache_key(VERSION, [(b.prefix, b.text, b.gap_before) for b in blocks], style_name,
                    palette, seed if style.ruled else 0, width, font_id(style.family))

    def produce() -> bytes:
        font, lines, size = fit_page(blocks, style, width)
        page = draw_page(lines, font, size, style, width, style.palettes[palette], seed)
        return encode_image(page)

    path = store_bytes(cached_bytes("render_text_image", key, produce), ".png", ctx.run_dir)
    update: dict[str, Any] = {"images": [*state.images, path],
                              "media_text": {**state.media_text, path: shown}}
    if args.replace:
        if "context" in fields:
            update["context"] = ""
        if "question" in fields:
            update["question"] = PROMPT_OPTIONS if "options" in fields and state.options else PROMPT
        if "options" in fields and state.options:
            update.update(_lettered(state))
    return state.model_copy(update=update)


def _lettered(state: SampleState) -> dict[str, Any]:
    """Options shown only in the image: the text keeps their letters, the answer its letter."""
    letters = list(LETTERS[:len(state.options)])
    try:
        gold = letters[state.options.index(state.answer)]
    except ValueError:
        raise OperatorError("the answer is not one of the options, so it has no letter") from None
    return {"options": letters, "answer": gold,
            "answer_aliases": [state.answer, *state.answer_aliases]}


# ---------------------------------------------------------------- degrade_image


def _background(img: Image.Image) -> RGB:
    corners = [img.getpixel(p) for p in ((0, 0), (img.width - 1, 0), (0, img.height - 1),
                                         (img.width - 1, img.height - 1))]
    r, g, b = max(set(map(tuple, corners)), key=corners.count)  # type: ignore[arg-type]
    return int(r), int(g), int(b)


def _blur(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius=0.3 + 3.7 * severity))


def _noise(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 110 * severity,
                                                               (img.height, img.width, 1))
    pixels = np.asarray(img, dtype=np.float32) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _rotate(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    angle = 20 * severity * rng.choice((-1, 1))
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                      fillcolor=_background(img))


def _occlusion(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    boxes = 1 + round(5 * severity)
    area = 0.3 * severity * img.width * img.height / boxes
    for _ in range(boxes):
        aspect = rng.uniform(0.5, 3.0)
        w = min(img.width, round(math.sqrt(area * aspect)))
        h = min(img.height, round(area / max(w, 1)))
        x, y = rng.randint(0, img.width - w), rng.randint(0, img.height - h)
        shade = rng.randint(0, 90)
        draw.rectangle((x, y, x + w, y + h), fill=(shade, shade, shade))
    return out


def _low_contrast(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    return ImageEnhance.Contrast(img).enhance(1 - 0.92 * severity)


def _jpeg_quality(severity: float) -> int:
    return max(1, round(60 * (1 - severity) ** 2))


def _jpeg(img: Image.Image, severity: float, rng: random.Random) -> Image.Image:
    return Image.open(io.BytesIO(encode_image(img, "JPEG", _jpeg_quality(severity))))


DEGRADATIONS = {"blur": _blur, "noise": _noise, "jpeg": _jpeg, "rotate": _rotate,
                "occlusion": _occlusion, "low_contrast": _low_contrast}


class DegradeArgs(OperatorArgs):
    kind: Annotated[Literal["auto", "blur", "noise", "jpeg", "rotate", "occlusion",
                            "low_contrast"], named({"low-contrast": "low_contrast"})] = Field(
        "auto", description="the degradation; auto: seeded")
    severity: float = Field(0.5, ge=0.0, le=1.0, description="how strong, 0 (none) to 1")
    index: ImageIndex = Field(None, description=_INDEX)


def vary_severity(args: DegradeArgs, rng: random.Random) -> DegradeArgs:
    """A severity drawn around the planned one (around 0.3 when the plan leaves the default)."""
    base = args.severity if "severity" in args.model_fields_set else 0.3
    return args.model_copy(update={"severity": round(rng.uniform(base * 0.5,
                                                                  min(1.0, base * 1.5)), 2)})


def degrade_image(state: SampleState, ctx: OpContext, args: DegradeArgs) -> SampleState:
    kind = seeded(args.kind, tuple(DEGRADATIONS), ctx)
    severity = args.severity
    seed = ctx.rng.getrandbits(32)
    images, media_text = list(state.images), dict(state.media_text)
    degraded = list(state.degraded)
    for i in image_indices(state, args.index):
        old = images[i]
        data = read_image(ctx.resolve(old))
        key = cache_key(VERSION, data, kind, severity, seed + i)

        def produce(data: bytes = data, name: str = Path(old).name, i: int = i) -> bytes:
            out = DEGRADATIONS[kind](open_image(data, name), severity, random.Random(seed + i))
            if kind == "jpeg":
                return encode_image(out, "JPEG", _jpeg_quality(severity))
            return encode_image(out)

        new = store_bytes(cached_bytes("degrade_image", key, produce),
                          ".jpg" if kind == "jpeg" else ".png", ctx.run_dir)
        images[i] = new
        if old in media_text:
            media_text[new] = media_text.pop(old)
        degraded = [*(d for d in degraded if d != old), new]
    return state.model_copy(update={"images": images, "media_text": media_text,
                                    "degraded": degraded})


# ---------------------------------------------------------------- crop


REGIONS: dict[str, tuple[float, float, float, float]] = {
    "top-half": (0, 0, 1, 0.5), "bottom-half": (0, 0.5, 1, 1),
    "left-half": (0, 0, 0.5, 1), "right-half": (0.5, 0, 1, 1),
    "center": (0.25, 0.25, 0.75, 0.75),
    "top-left": (0, 0, 0.5, 0.5), "top-right": (0.5, 0, 1, 0.5),
    "bottom-left": (0, 0.5, 0.5, 1), "bottom-right": (0.5, 0.5, 1, 1),
}


class CropArgs(OperatorArgs):
    region: Annotated[Literal["top-half", "bottom-half", "left-half", "right-half", "center",
                              "top-left", "top-right", "bottom-left", "bottom-right"] | None,
                      named()] = Field(None, description="a named part of the image")
    box: list[float] | None = Field(None, min_length=4, max_length=4, description="instead of "
                                    "region: [left, top, right, bottom] as fractions 0-1")
    index: ImageIndex = Field(None, description=_INDEX)

    @model_validator(mode="after")
    def _region_or_box(self) -> CropArgs:
        if self.region is None and self.box is None:
            raise ValueError("crop needs region or box [left, top, right, bottom]")
        if self.region is None and self.box is not None:
            left, top, right, bottom = self.box
            if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
                raise ValueError(f"box must be fractions with left<right, top<bottom, "
                                 f"not {self.box!r}")
        return self

    def fractions(self) -> tuple[float, float, float, float]:
        if self.region is not None:
            return REGIONS[self.region]
        assert self.box is not None  # the validator requires region or box
        left, top, right, bottom = self.box
        return left, top, right, bottom


def _ink_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of whatever differs clearly from the background colour."""
    flat = Image.new("RGB", img.size, _background(img))
    mask = ImageChops.difference(img, flat).convert("L").point(lambda v: 255 if v > 40 else 0)
    return mask.getbbox()


def _inside(inner: tuple[int, int, int, int] | None, outer: tuple[int, int, int, int]) -> bool:
    return inner is None or (inner[0] >= outer[0] and inner[1] >= outer[1]
                             and inner[2] <= outer[2] and inner[3] <= outer[3])


def crop(state: SampleState, ctx: OpContext, args: CropArgs) -> SampleState:
    fractions = args.fractions()
    images, media_text = list(state.images), dict(state.media_text)
    degraded = list(state.degraded)
    for i in image_indices(state, args.index):
        old = images[i]
        data = read_image(ctx.resolve(old))
        img = open_image(data, Path(old).name)
        w, h = img.size
        box = (round(fractions[0] * w), round(fractions[1] * h),
               round(fractions[2] * w), round(fractions[3] * h))
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            raise OperatorError(f"crop of {w}x{h} image to {box} leaves under 8 px")
        out = cached_bytes("crop", cache_key(VERSION, data, box),
                           lambda img=img, box=box: encode_image(img.crop(box)))  # type: ignore[misc]
        new = store_bytes(out, ".png", ctx.run_dir)
        images[i] = new
        text = media_text.pop(old, None)
        if text is not None and _inside(_ink_box(img), box):
            media_text[new] = text
        if old in degraded:
            degraded = [*(d for d in degraded if d != old), new]
    return state.model_copy(update={"images": images, "media_text": media_text,
                                    "degraded": degraded})


# ---------------------------------------------------------------- registration

_IMAGE = frozenset({FieldRole.image})

register(Operator(
    name="render_text_image",
    description="Render the sample's text fields into a PNG (word-wrapped, options as 'A. ...') "
                "in a visual style: document (serif, black on white), slide (large bold sans on "
                "a coloured background), receipt (narrow monospace), handwriting (italic ink on "
                "ruled paper, slightly jittered), dark (light sans on a dark screen). With "
                "replace the rendered fields leave the text and the question becomes a prompt to "
                "answer the question shown in the image; options stay in the answer key.",
    requires=frozenset({FieldRole.question}), produces=_IMAGE, fn=render_text_image,
    args=RenderArgs, traits=Traits(adaptable=True), cost_class="cpu",
))
register(Operator(
    name="degrade_image",
    description="Degrade the sample's images like a bad scan or photo: blur (Gaussian), noise "
                "(Gaussian pixel noise), jpeg (low-quality compression), rotate (up to 20 "
                "degrees), occlusion (grey boxes over up to 30% of the area) or low_contrast. "
                "The result is marked degraded; its text is kept for a looser read-back.",
    requires=_IMAGE, produces=frozenset(), fn=degrade_image, args=DegradeArgs,
    traits=Traits(lossy=0.1, optional=True, adaptable=True), vary=vary_severity,
    cost_class="cpu",
))
register(Operator(
    name="crop",
    description="Crop the sample's images to a named region or a box of fractions. The image's "
                "known text is kept only when the crop keeps all of the drawn content.",
    requires=_IMAGE, produces=frozenset(), fn=crop, args=CropArgs,
    traits=Traits(lossy=0.1, adaptable=True), cost_class="cpu",
))
