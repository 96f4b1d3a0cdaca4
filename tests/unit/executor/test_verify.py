from __future__ import annotations

import random
from pathlib import Path

from PIL import Image

from benchagent.executor.verify import (
    VerifyLayers,
    blind_check,
    rule_checks,
    semantic_check,
    verify_sample,
)
from benchagent.models import MockRule
from benchagent.operators import OpContext, SampleState, get_operator
from benchagent.records import (
    AnswerType,
    BenchmarkSample,
    CheckResult,
    DatasetCard,
    Media,
    Modality,
    Provenance,
    SourceSample,
    Subtask,
)


def _sample(**kw: object) -> BenchmarkSample:
    base: dict[str, object] = {
        "id": "s", "subtask": "T", "question": "Which city is the capital of France?",
        "options": ["Paris", "Rome", "Oslo"], "answer": "Paris",
        "answer_type": AnswerType.multiple_choice,
        "provenance": Provenance(source_dataset="d", source_dataset_name="D", source_id="1")}
    return BenchmarkSample.model_validate(base | kw)


SUB = Subtask(name="T", description="t", answer_type=AnswerType.multiple_choice)


def _failed(sample: BenchmarkSample, tmp_path: Path) -> set[str]:
    return {c.check for c in rule_checks(sample, SUB, tmp_path) if not c.passed}


def test_a_good_item_passes(tmp_path: Path) -> None:
    assert _failed(_sample(), tmp_path) == set()


def test_each_rule_catches_its_fault(tmp_path: Path) -> None:
    assert _failed(_sample(options=["Paris", "Rome", "paris"]), tmp_path) >= {
        "options_unique", "one_correct"}
    assert "one_correct" in _failed(_sample(answer="Berlin"), tmp_path)
    assert "not_leaked" in _failed(_sample(question="The answer is Paris. Which city?"), tmp_path)
    assert "answer_type" in _failed(_sample(answer_type=AnswerType.yes_no), tmp_path)
    assert "schema" in _failed(_sample(question="  "), tmp_path)


def test_options_listed_in_the_question_are_not_a_leak(tmp_path: Path) -> None:
    sample = _sample(question="Which is the capital of France: Paris, Rome or Oslo?")
    assert "not_leaked" not in _failed(sample, tmp_path)


def test_semantic_check_rejects_with_the_verifiers_reason(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("Gold answer", {"answerable": True, "answer_correct": False,
                                                  "reason": "the gold answer is wrong"}))
    result = semantic_check(client, _sample(), seed=0)
    assert not result.passed and result.reason == "the gold answer is wrong"


def test_semantic_check_falls_back_when_output_stays_invalid(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("Gold answer", "not json"), repair_rounds=1)
    result = semantic_check(client, _sample(), seed=0)
    assert result.passed and "skipped" in result.reason
    assert client.trace.totals()["verifier"]["fallbacks"] == 1


# ---------------------------------------------------------------- blind check and layers

IMAGE_SUB = Subtask(name="T", description="t", modalities=[Modality.image],
                    answer_type=AnswerType.multiple_choice)
SHOWN = "Which city is the capital of France?\nA. Paris\nB. Rome\nC. Oslo"
PAGE = "media/page.png"


def _image_item(tmp_path: Path, **kw: object) -> tuple[BenchmarkSample, SampleState]:
    """An item whose question was moved into an image (a real PNG, blank unless rendered)."""
    (tmp_path / "media").mkdir(exist_ok=True)
    Image.new("RGB", (300, 100), "white").save(tmp_path / PAGE)
    sample = _sample(question="Answer the question shown in the image by choosing one of the "
                              "options shown.", media=[Media(kind=Modality.image, path=PAGE)])
    sample = sample.model_copy(update=kw)
    return sample, SampleState(images=[PAGE], media_text={PAGE: SHOWN})


def _blind(reply: object, tmp_path: Path, mock_client) -> CheckResult:  # type: ignore[no-untyped-def]
    sample, state = _image_item(tmp_path)
    client = mock_client(MockRule("WITHOUT its image", reply))
    return blind_check(sample, state, IMAGE_SUB, client, seed=0)


def test_blind_verifier_answering_the_gold_rejects_the_item(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    result = _blind({"reason": "everyone knows", "answer": "Paris"}, tmp_path, mock_client)
    assert not result.passed and result.reason.startswith("answerable without its image")
    lettered = _blind({"reason": "guess", "answer": "A"}, tmp_path, mock_client)
    assert not lettered.passed


def test_blind_verifier_that_cannot_tell_or_is_wrong_passes(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    assert _blind({"reason": "no question", "answer": "cannot tell"}, tmp_path,
                  mock_client).passed
    assert _blind({"reason": "guess", "answer": "Rome"}, tmp_path, mock_client).passed


def test_blind_check_falls_back_when_output_stays_invalid(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    sample, state = _image_item(tmp_path)
    client = mock_client(MockRule("WITHOUT its image", "not json"), repair_rounds=0)
    result = blind_check(sample, state, IMAGE_SUB, client, seed=0)
    assert result.passed and result.reason.startswith("skipped")
    assert client.trace.totals()["verifier"]["fallbacks"] == 1


def test_blind_prompt_shows_the_text_only(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    sample, state = _image_item(tmp_path)
    client = mock_client()
    blind_check(sample, state, IMAGE_SUB, client, seed=0)
    prompt = client.provider.calls[0].messages[0]["content"]
    assert "Paris" in prompt and "capital of France" not in prompt and "Gold" not in prompt


def test_blind_rules_without_a_verifier(tmp_path: Path) -> None:
    sample, state = _image_item(tmp_path)
    assert blind_check(sample, state, IMAGE_SUB, None, seed=0).passed
    leaked, _ = _image_item(tmp_path, context="Paris is the capital of France.")
    assert "gives the gold" in blind_check(leaked, state, IMAGE_SUB, None, seed=0).reason
    repeated, _ = _image_item(tmp_path, question="Which city is the capital of France?")
    reason = blind_check(repeated, state, IMAGE_SUB, None, seed=0).reason
    assert reason == f"answerable without its image: the text repeats what {PAGE} holds"
    bare = _sample()
    assert "has no image" in blind_check(bare, SampleState(), IMAGE_SUB, None, seed=0).reason


def test_semantic_check_sees_the_text_moved_into_media(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    sample, state = _image_item(tmp_path)
    client = mock_client()
    semantic_check(client, sample, 0, state)
    semantic_check(client, sample, 0)
    with_text, without = (c.messages[0]["content"] for c in client.provider.calls)
    assert f"the image {PAGE} shows:\nWhich city is the capital of France?" in with_text
    assert "which you cannot see or hear" in without and "capital of France" not in without


def test_schema_only_layers_run_the_schema_check_alone(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    sample, state = _image_item(tmp_path, options=["Paris", "Paris"])
    client = mock_client()
    checks = verify_sample(sample, state, IMAGE_SUB, tmp_path, client, 0,
                           VerifyLayers.schema_only())
    assert [c.check for c in checks] == ["schema"] and not client.provider.calls


def test_layers_stop_at_the_first_rejection(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client()
    bad_rules, state = _image_item(tmp_path, options=["Paris", "Paris"])
    checks = verify_sample(bad_rules, state, IMAGE_SUB, tmp_path, client, 0, VerifyLayers.full())
    assert "one_correct" in {c.check for c in checks if not c.passed}
    blank_page, state = _image_item(tmp_path)  # the blank PNG does not show SHOWN
    checks = verify_sample(blank_page, state, IMAGE_SUB, tmp_path, client, 0, VerifyLayers.full())
    assert [(c.check, c.passed) for c in checks][-2:] == [("ocr_readback", False),
                                                          ("ocr_evidence", False)]
    assert not client.provider.calls


def test_full_layers_on_a_real_page(tmp_path: Path, mock_client) -> None:  # type: ignore[no-untyped-def]
    ctx = OpContext(source=SourceSample(dataset_id="d", source_id="1"),
                    card=DatasetCard(id="d", name="D", format="jsonl", source="x"),
                    answer_space=[], rng=random.Random(0), run_dir=tmp_path)
    state = get_operator("render_text_image").run(
        SampleState(question="Which city is the capital of France?", options=["Paris", "Rome"],
                    answer="Paris"), ctx, {"style": "document"})
    sample = _sample(question=state.question, options=state.options,
                     media=[Media(kind=Modality.image, path=state.images[0])])
    client = mock_client(MockRule("WITHOUT its image", {"reason": "r", "answer": "cannot tell"}),
                         MockRule("Gold answer", {"reason": "r", "answerable": True,
                                                  "answer_correct": True}))
    checks = verify_sample(sample, state, IMAGE_SUB, tmp_path, client, 0, VerifyLayers.full())
    assert all(c.passed for c in checks), checks
    assert [c.check for c in checks][-4:] == ["ocr_readback", "ocr_evidence", "blind",
                                              "semantic"]
    text_only = verify_sample(_sample(), SampleState(), SUB, tmp_path, client, 0,
                              VerifyLayers.full())
    assert [c.check for c in text_only][-1] == "semantic"


def test_a_rewritten_item_is_judged_against_its_source(mock_client) -> None:  # type: ignore[no-untyped-def]
    unfaithful = {"reason": "the source asks about France, the item about Italy",
                  "answerable": True, "answer_correct": True, "faithful": False}
    client = mock_client(MockRule("rewrote this item", unfaithful))
    source = "Which city is the capital of Italy?\nAnswer: Rome"
    result = semantic_check(client, _sample(), seed=0, source=source)
    assert not result.passed and result.reason.startswith("not faithful to its source")
    prompt = client.provider.calls[-1].messages[-1]["content"]  # type: ignore[attr-defined]
    assert source in prompt and '"faithful"' in prompt
    plain = mock_client(MockRule("Gold answer", {"answerable": True, "answer_correct": True}))
    assert semantic_check(plain, _sample(), seed=0).passed  # no source: no faithfulness asked


# ---------------------------------------------------------------- a reviewer's rules

MC_FORMAT = ("Answer the question by choosing exactly one of the options. Reply with the text of "
             "the option only.")


def _reasons(sample: BenchmarkSample, tmp_path: Path,
             state: SampleState | None = None) -> dict[str, str]:
    return {c.check: c.reason for c in rule_checks(sample, SUB, tmp_path, state) if not c.passed}


def test_an_item_that_asks_nothing_is_rejected_with_its_reason(tmp_path: Path) -> None:
    item = _sample(instruction=MC_FORMAT, options=["showy", "greedy", "direct"], answer="direct",
                   question="The target was to the left, so Rick told Mike to look in that "
                            "direction.")
    assert _reasons(item, tmp_path) == {"asks": "the item asks nothing: no question or task "
                                                "statement in its instruction, context, "
                                                "question or media (only how to answer)"}
    stated = item.model_copy(update={"instruction": "Which word describes Rick? " + MC_FORMAT})
    assert _reasons(stated, tmp_path) == {}


def test_a_yes_no_item_without_its_proposition_is_rejected(tmp_path: Path) -> None:
    item = _sample(instruction="Answer the question with yes or no only.",
                   question="Vivaldi streamed his concerto online to his subscribers.",
                   options=["Yes", "No"], answer="Yes")
    failed = _reasons(item, tmp_path)
    assert set(failed) == {"asks", "yes_no_proposition"}
    assert 'says what "yes" would mean' in failed["yes_no_proposition"]
    asked = item.model_copy(update={"question": item.question + " Does this sentence contain "
                                                                "an anachronism?"})
    assert _reasons(asked, tmp_path) == {}


def test_restating_options_and_a_gold_the_source_does_not_single_out(tmp_path: Path) -> None:
    restating = _sample(question="How would Kai feel afterwards?",
                        options=["Feeling sad", "Sad", "Proud"], answer="Sad")
    assert _reasons(restating, tmp_path) == {
        "options_distinct": "options restate each other: 'Feeling sad' / 'Sad'"}
    shapes = _sample(question='This SVG path element <path d="M 1,2 A 3,3 0 1,0 5,6"/> draws a',
                     options=["circle", "kite", "ellipse"], answer="circle")
    tied = SampleState(answer="circle", answer_aliases=["circle", "ellipse"])
    assert _reasons(shapes, tmp_path, tied) == {
        "gold_unique": "the source counts 2 options as right: 'circle', 'ellipse'"}
    assert _reasons(shapes, tmp_path, SampleState(answer="circle")) == {}


def test_the_semantic_check_judges_the_subtask_and_keeps_its_reason(mock_client) -> None:  # type: ignore[no-untyped-def]
    subtask = Subtask(name="Capital cities", description="name the capital of a country")
    good = mock_client(MockRule("Gold answer", {"reason": "Paris is the capital",
                                                "answerable": True, "answer_correct": True,
                                                "tests_subtask": True}))
    result = semantic_check(good, _sample(), seed=0, subtask=subtask)
    assert result.passed and result.reason == "Paris is the capital"
    prompt = good.provider.calls[-1].messages[-1]["content"]
    assert 'subtask "Capital cities": name the capital of a country' in prompt
    assert '"tests_subtask"' in prompt
    off = mock_client(MockRule("Gold answer", {"reason": "it asks about rivers",
                                               "answerable": True, "answer_correct": True,
                                               "tests_subtask": False}))
    result = semantic_check(off, _sample(), seed=0, subtask=subtask)
    assert not result.passed
    assert result.reason == "does not test its subtask 'Capital cities': it asks about rivers"
    assert '"tests_subtask"' not in _prompt_without_subtask(off)


def _prompt_without_subtask(client) -> str:  # type: ignore[no-untyped-def]
    semantic_check(client, _sample(), seed=0)
    return str(client.provider.calls[-1].messages[-1]["content"])


def test_true_false_letter_codes_must_be_spelled_out(tmp_path: Path) -> None:
    coded = _sample(instruction="Answer the question with yes or no only.",
                    question="Is this statement a misconception? Cracking your knuckles causes "
                             "arthritis.", options=["T", "F"], answer="T")
    assert _reasons(coded, tmp_path) == {
        "codes_explained": "the options T / F are letter codes the item does not spell out"}
    spelled = coded.model_copy(update={"instruction": "Reply T for true or F for false."})
    assert _reasons(spelled, tmp_path) == {}
