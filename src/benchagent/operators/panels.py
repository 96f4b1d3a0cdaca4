"""compose_images: the sample's images (and its siblings') as one image of labelled panels."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from PIL import Image, ImageDraw
from pydantic import Field

from benchagent.operators.args import OperatorArgs, Whole
from benchagent.operators.cache import cache_key, cached_bytes
from benchagent.operators.fonts import load_font
from benchagent.operators.image import (
    LETTERS,
    VERSION,
    encode_image,
    named,
    open_image,
    read_image,
)
from benchagent.operators.media import store_bytes
from benchagent.operators.registry import OpContext, Operator, OperatorError, SampleState, register
from benchagent.records import FieldRole

LABEL_HEIGHT = 44
GAP = 12
MAX_PANELS = 16


def _grid(n: int, arrangement: str) -> tuple[int, int]:
    if arrangement == "row":
        return n, 1
    if arrangement == "column":
        return 1, n
    cols = math.ceil(math.sqrt(n))
    return cols, math.ceil(n / cols)


def compose_canvas_size(n: int, panel: int, arrangement: str = "grid") -> tuple[int, int]:
    """Pixel size of a composed image of `n` panels of `panel` px each."""
    cols, rows = _grid(n, arrangement)
    return cols * panel + (cols + 1) * GAP, rows * (panel + LABEL_HEIGHT) + (rows + 1) * GAP


def _compose(images: list[Image.Image], labels: list[str], panel: int,
             arrangement: str) -> Image.Image:
    cols, _ = _grid(len(images), arrangement)
    canvas = Image.new("RGB", compose_canvas_size(len(images), panel, arrangement), "white")
    draw = ImageDraw.Draw(canvas)
    font = load_font("sans-bold", round(LABEL_HEIGHT * 0.7))
    for n, (img, label) in enumerate(zip(images, labels, strict=True)):
        x = GAP + (n % cols) * (panel + GAP)
        y = GAP + (n // cols) * (panel + LABEL_HEIGHT + GAP)
        draw.text((x + panel // 2, y + LABEL_HEIGHT // 2), label, font=font, fill="black",
                  anchor="mm")
        draw.rectangle((x - 1, y + LABEL_HEIGHT - 1, x + panel, y + LABEL_HEIGHT + panel),
                       outline=(180, 180, 180), fill=(245, 245, 245))
        thumb = img.copy()
        thumb.thumbnail((panel, panel), Image.Resampling.LANCZOS)
        canvas.paste(thumb, (x + (panel - thumb.width) // 2,
                             y + LABEL_HEIGHT + (panel - thumb.height) // 2))
    return canvas


def _panel_sources(state: SampleState, ctx: OpContext, siblings: int) -> list[Path]:
    paths = [ctx.resolve(p) for p in state.images]
    if siblings > 0:
        if ctx.siblings is None:
            raise OperatorError("with_siblings needs sibling samples, and none are available")
        extra = [Path(p) for s in ctx.siblings(siblings) for p in s.images]
        if not extra:
            raise OperatorError(f"none of the {siblings} sibling samples has an image")
        paths += extra
    if len(paths) > MAX_PANELS:
        raise OperatorError(f"too many images to compose ({len(paths)} > {MAX_PANELS})")
    return paths


class ComposeImagesArgs(OperatorArgs):
    with_siblings: Whole = Field(0, ge=0, le=MAX_PANELS,
                                 description="add the images of this many sibling samples")
    layout: Annotated[Literal["grid", "row", "column"], named()] = Field(
        "grid", description="how the panels are arranged")
    labels: Annotated[Literal["numbers", "letters"], named()] = Field(
        "numbers", description="panel labels: 1, 2, ... or A, B, ...")
    panel: Whole = Field(512, ge=64, le=2048, description="the side of each square panel, px")


def compose_images(state: SampleState, ctx: OpContext, args: ComposeImagesArgs) -> SampleState:
    if not state.images:
        raise OperatorError("the sample has no image")
    panel, arrangement, style = args.panel, args.layout, args.labels
    paths = _panel_sources(state, ctx, args.with_siblings)
    datas = [read_image(p) for p in paths]
    labels = [LETTERS[i] if style == "letters" else str(i + 1) for i in range(len(paths))]
    key = cache_key(VERSION, [cache_key(d) for d in datas], labels, panel, arrangement)

    def produce() -> bytes:
        images = [open_image(d, p.name) for d, p in zip(datas, paths, strict=True)]
        return encode_image(_compose(images, labels, panel, arrangement))

    new = store_bytes(cached_bytes("compose_images", key, produce), ".png", ctx.run_dir)
    was_degraded = any(p in state.degraded for p in state.images)
    media_text = {k: v for k, v in state.media_text.items() if k not in state.images}
    degraded = [d for d in state.degraded if d not in state.images]
    return state.model_copy(update={"images": [new], "media_text": media_text,
                                    "degraded": [*degraded, new] if was_degraded else degraded})


register(Operator(
    name="compose_images",
    description="Combine the sample's images, and with with_siblings the images of n other "
                "samples of the dataset, into one image of labelled panels (1, 2, ... or A, B, "
                "...), the sample's own images first. The panels replace the sample's images.",
    requires=frozenset({FieldRole.image}), produces=frozenset(), fn=compose_images,
    args=ComposeImagesArgs, cost_class="cpu",
))
