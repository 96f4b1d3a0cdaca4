from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchagent.operators import OpContext, OperatorError, SampleState, get_operator, image, panels
from benchagent.operators.fonts import DEFAULT_FONT_ID, STYLES, font_id
from benchagent.operators.ocr import char_error_rate, ocr_image, tesseract_available
from benchagent.paths import cache_dir
from benchagent.records import DatasetCard, SourceSample

CONTEXT = ("Budapest is the capital and most populous city of Hungary. The Danube river divides "
           "the city into Buda, on the hilly west bank, and Pest, on the flat east bank.\n"
           "In 1873 the two towns were united with Obuda.")
QUESTION = "Which river flows through the capital city of Hungary?"
OPTIONS = ["The Danube", "The Tisza", "The Rhine", "The Vistula"]


def _ctx(run: Path, seed: int = 1,
         siblings: Callable[[int], list[SourceSample]] | None = None) -> OpContext:
    card = DatasetCard(id="d", name="D", format="jsonl", source="x")
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=card,
                     answer_space=[], rng=random.Random(seed), run_dir=run, siblings=siblings)


def _state(**update: object) -> SampleState:
    return SampleState(question=QUESTION, context=CONTEXT, options=list(OPTIONS),
                       answer="The Danube").model_copy(update=update)


def _render(run: Path, style: str = "document", seed: int = 1, **args: object) -> SampleState:
    return get_operator("render_text_image").run(_state(), _ctx(run, seed),
                                                 {"style": style, **args})


def _cer(run: Path, state: SampleState, index: int = -1) -> float:
    path = state.images[index]
    return char_error_rate(state.media_text[path], ocr_image(run / path))


def test_char_error_rate() -> None:
    assert char_error_rate("kitten", "sitting") == pytest.approx(3 / 6)
    assert char_error_rate("a  b\nc", " a b c ") == 0.0
    assert char_error_rate("", "") == 0.0 and char_error_rate("abc", "") == 1.0
    long_ref = "the quick brown fox " * 100
    assert char_error_rate(long_ref, long_ref.replace("quick", "quack")) == pytest.approx(
        100 / len(long_ref.strip()))


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_style_renders_legible_text(tmp_path: Path, style: str) -> None:
    out = _render(tmp_path, style, fields=["question", "context", "options"])
    path = out.images[0]
    with Image.open(tmp_path / path) as img:
        assert img.format == "PNG" and img.width == STYLES[style].width and img.height > 200
    assert "A. The Danube" in out.media_text[path] and "Question: " + QUESTION in \
        out.media_text[path]
    assert _cer(tmp_path, out) < 0.03
    assert out.question == image.PROMPT_OPTIONS and out.context == ""
    assert out.options == ["A", "B", "C", "D"] and out.answer == "A"  # shown only in the image
    assert out.answer_aliases[0] == "The Danube"


def test_default_render_keeps_options_in_text_and_longer_text_grows_the_image(
        tmp_path: Path) -> None:
    short = _render(tmp_path, width=600)
    assert short.question == image.PROMPT and short.options == OPTIONS
    assert "A. " not in short.media_text[short.images[0]]
    longer = get_operator("render_text_image").run(
        _state(context=CONTEXT + "\n" + CONTEXT), _ctx(tmp_path), {"style": "document",
                                                                   "width": 600})
    with Image.open(tmp_path / short.images[0]) as a, Image.open(tmp_path / longer.images[0]) as b:
        assert a.width == b.width == 600 and b.height > a.height + 100


def test_replace_false_and_partial_fields(tmp_path: Path) -> None:
    kept = _render(tmp_path, replace=False)
    assert kept.question == QUESTION and kept.context == CONTEXT
    only_context = _render(tmp_path, fields=["context"])
    assert only_context.question == QUESTION and only_context.context == ""
    assert "Question" not in only_context.media_text[only_context.images[0]]
    with pytest.raises(OperatorError, match="fields"):
        _render(tmp_path, fields=["answer"])


def test_long_text_shrinks_the_font_and_huge_text_is_refused(tmp_path: Path) -> None:
    long_state = _state(context=" ".join([CONTEXT] * 30))  # ~6,700 characters
    out = get_operator("render_text_image").run(long_state, _ctx(tmp_path),
                                                {"style": "document"})
    with Image.open(tmp_path / out.images[0]) as img:
        assert img.height <= 3 * img.width
    huge = _state(context=" ".join([CONTEXT] * 200))
    with pytest.raises(OperatorError, match=r"text too long to render legibly \(\d+ chars\)"):
        get_operator("render_text_image").run(huge, _ctx(tmp_path), {"style": "document"})
    with pytest.raises(OperatorError, match="cannot draw"):
        get_operator("render_text_image").run(_state(question="这是什么?"), _ctx(tmp_path),
                                              {"style": "document"})


def test_without_system_fonts_pillow_default_font_is_used(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv("BENCHAGENT_FONT_DIRS", str(empty))
    assert font_id("serif") == DEFAULT_FONT_ID
    out = _render(tmp_path, "slide")
    assert _cer(tmp_path, out) < 0.05


def test_auto_choices_are_seeded(tmp_path: Path) -> None:
    first = _render(tmp_path, "auto", seed=7).images
    assert _render(tmp_path, "auto", seed=7).images == first
    widths = set()
    for seed in range(12):
        with Image.open(tmp_path / _render(tmp_path, "auto", seed=seed).images[0]) as img:
            widths.add(img.width)
    assert widths == {STYLES[s].width for s in STYLES}
    doc = _render(tmp_path)
    kinds = [get_operator("degrade_image").run(doc, _ctx(tmp_path, s), {"kind": "auto"}).images
             for s in (3, 3, 4)]
    assert kinds[0] == kinds[1] != kinds[2]


def test_blur_raises_the_error_rate(tmp_path: Path) -> None:
    clean = _render(tmp_path)
    blurred = get_operator("degrade_image").run(clean, _ctx(tmp_path),
                                                {"kind": "blur", "severity": 1.0})
    assert _cer(tmp_path, clean) < 0.02
    assert _cer(tmp_path, blurred) > 0.5


@pytest.mark.parametrize("kind", sorted(image.DEGRADATIONS))
def test_degradations_make_valid_cached_images(tmp_path: Path, kind: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    clean = _render(tmp_path)
    original = clean.images[0]
    out = get_operator("degrade_image").run(clean, _ctx(tmp_path, 5),
                                            {"kind": kind, "severity": 0.5})
    new = out.images[0]
    assert new != original and out.degraded == [new] and new.endswith(
        ".jpg" if kind == "jpeg" else ".png")
    assert out.media_text == {new: clean.media_text[original]}
    with Image.open(tmp_path / original) as a, Image.open(tmp_path / new) as b:
        b.load()
        if kind == "rotate":
            assert b.width > a.width and b.height > a.height
        else:
            assert b.size == a.size
    data = (tmp_path / new).read_bytes()
    assert any(f.read_bytes() == data for f in (cache_dir() / "ops" / "degrade_image").iterdir())

    def fail(*_: object) -> Image.Image:
        raise AssertionError("the cache was not used")

    monkeypatch.setitem(image.DEGRADATIONS, kind, fail)
    again = get_operator("degrade_image").run(clean, _ctx(tmp_path, 5),
                                              {"kind": kind, "severity": 0.5})
    assert again.images == [new] and (tmp_path / new).read_bytes() == data
    limit = 0.6 if kind == "occlusion" else 0.1
    assert _cer(tmp_path, out) < limit


def test_degrade_checks_its_arguments(tmp_path: Path) -> None:
    clean = _render(tmp_path)
    op = get_operator("degrade_image")
    with pytest.raises(OperatorError, match="severity must be between 0 and 1, not 2"):
        op.run(clean, _ctx(tmp_path), {"kind": "blur", "severity": 2})
    with pytest.raises(OperatorError, match=r"kind must be one of auto, blur, .*, not 'sepia'"):
        op.run(clean, _ctx(tmp_path), {"kind": "sepia"})
    with pytest.raises(OperatorError, match="out of range"):
        op.run(clean, _ctx(tmp_path), {"kind": "blur", "index": 3})


def test_crop_keeps_text_only_when_it_is_all_still_there(tmp_path: Path) -> None:
    clean = _render(tmp_path)
    path = clean.images[0]
    with Image.open(tmp_path / path) as img:
        width, height = img.size
    op = get_operator("crop")
    half = op.run(clean, _ctx(tmp_path), {"region": "top-half"})
    with Image.open(tmp_path / half.images[0]) as img:
        assert img.size == (width, round(height * 0.5))
    assert half.media_text == {}
    trimmed = op.run(clean, _ctx(tmp_path), {"box": [0.02, 0.02, 0.98, 0.98]})
    with Image.open(tmp_path / trimmed.images[0]) as img:
        assert img.size == (round(0.98 * width) - round(0.02 * width),
                            round(0.98 * height) - round(0.02 * height))
    assert trimmed.media_text == {trimmed.images[0]: clean.media_text[path]}
    assert _cer(tmp_path, trimmed) < 0.02
    for bad in ({"region": "middle-ish"}, {"box": [0.5, 0, 0.2, 1]}, {}):
        with pytest.raises(OperatorError):
            op.run(clean, _ctx(tmp_path), bad)


def _ink_pixels(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    return int((np.asarray(img.crop(box).convert("L")) < 100).sum())


def test_compose_with_siblings_makes_labelled_panels(tmp_path: Path) -> None:
    own = _render(tmp_path, "document")
    others = [_render(tmp_path, style) for style in ("slide", "dark", "receipt")]
    sibling_samples = [SourceSample(dataset_id="d", source_id=str(i),
                                    images=[str(tmp_path / s.images[0])])
                       for i, s in enumerate(others)]
    ctx = _ctx(tmp_path, siblings=lambda n: sibling_samples[:n])
    out = get_operator("compose_images").run(own, ctx, {"with_siblings": 3, "panel": 256,
                                                        "labels": "letters"})
    assert len(out.images) == 1 and out.media_text == {}
    with Image.open(tmp_path / out.images[0]) as img:
        assert img.size == panels.compose_canvas_size(4, 256, "grid") == (12 * 3 + 512,
                                                                        12 * 3 + 2 * 300)
        label_strips = [(12, 12, 268, 56), (280, 12, 536, 56), (12, 312, 268, 356)]
        assert all(_ink_pixels(img, box) > 30 for box in label_strips)
    row = get_operator("compose_images").run(own, ctx, {"with_siblings": 1, "panel": 128,
                                                        "layout": "row"})
    with Image.open(tmp_path / row.images[0]) as img:
        assert img.size == (2 * 128 + 3 * 12, 128 + 44 + 2 * 12)
    with pytest.raises(OperatorError, match="sibling"):
        get_operator("compose_images").run(own, _ctx(tmp_path), {"with_siblings": 2})


def test_ocr_operator_reads_into_the_chosen_field(tmp_path: Path) -> None:
    rendered = _render(tmp_path)
    op = get_operator("ocr")
    into_context = op.run(rendered, _ctx(tmp_path), {})
    assert char_error_rate(rendered.media_text[rendered.images[0]], into_context.context) < 0.02
    into_question = op.run(rendered, _ctx(tmp_path), {"into": "question", "drop_image": True})
    assert "Danube" in into_question.question and into_question.images == []
    assert into_question.media_text == {}
    appended = op.run(rendered.model_copy(update={"context": "Intro."}), _ctx(tmp_path),
                      {"append": True})
    assert appended.context.startswith("Intro.\n\nBudapest")


def test_missing_tesseract_is_a_clear_operator_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = _render(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not tesseract_available()
    with pytest.raises(OperatorError, match="tesseract-ocr"):
        get_operator("ocr").run(rendered, _ctx(tmp_path), {})


def test_non_image_files_are_operator_errors(tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    state = SampleState(question="q", images=[str(fake)])
    for name, args in (("degrade_image", {"kind": "blur"}), ("crop", {"region": "center"}),
                       ("compose_images", {}), ("ocr", {})):
        with pytest.raises(OperatorError, match=r"not a readable image: notes\.png"):
            get_operator(name).run(state, _ctx(tmp_path), args)
    missing = SampleState(question="q", images=[str(tmp_path / "gone.png")])
    with pytest.raises(OperatorError, match=r"cannot read image gone\.png"):
        get_operator("crop").run(missing, _ctx(tmp_path), {"region": "center"})


def test_operators_are_described_for_planners() -> None:
    for name in ("render_text_image", "degrade_image", "crop", "compose_images", "ocr"):
        described = get_operator(name).describe()
        assert described["cost_class"] == "cpu" and described["args"]
        assert "image" in described["requires"] or "image" in described["produces"]
