"""Model-driven text operators over the scripted mock model, and compose_items."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from benchagent.models import MockRule, ModelClient
from benchagent.operators import (
    OpContext,
    OperatorError,
    SampleState,
    get_operator,
    modelcall,
    textgen,
)
from benchagent.prompts import render
from benchagent.records import AnswerType, DatasetCard, SourceSample

REWRITE = "You rewrite the question"
DISTRACT = "wrong options of a multiple-choice"
CONTEXT = "context passage of one benchmark item"
DIALOGUE = "natural conversation"
HARDER = "harder variant"
TRANSLATE = "Translate this benchmark item"

CAPITAL = SampleState(question="Which city is the capital of France?", answer="Paris",
                      answer_aliases=["Paris, France"], answer_type=AnswerType.short_text)
APPLES = SampleState(question="How many apples does Tom have left?",
                     context="Tom bought 12 apples on Monday and gave 5 of them to Mia.",
                     answer="7", answer_type=AnswerType.number)
PLANET = SampleState(question="Which planet is known as the Red Planet?",
                     options=["Mars", "Venus", "Jupiter", "Saturn"], answer="Mars",
                     answer_type=AnswerType.multiple_choice)


def _ctx(tmp_path: Path, client: ModelClient | None, seed: int = 3,
         space: list[str] | None = None, siblings: Any = None) -> OpContext:
    card = DatasetCard(id="d", name="D", format="jsonl", source="x")
    return OpContext(source=SourceSample(dataset_id="d", source_id="1"), card=card,
                     answer_space=space or [], rng=random.Random(seed), run_dir=tmp_path,
                     model=client, siblings=siblings)


def _run(name: str, state: SampleState, ctx: OpContext, **args: Any) -> SampleState:
    return get_operator(name).run(state, ctx, args)


def _outcomes(client: ModelClient) -> list[str]:
    return [e["outcome"] for e in client.trace.events
            if e["event"] == "decision" and e["role"] == "executor"]


def _calls(client: ModelClient) -> int:
    return client.trace.totals()["executor"]["calls"]


def _last_prompt(client: ModelClient) -> str:
    return client.provider.calls[-1].messages[-1]["content"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- rewrite_question


def test_rewrite_question_takes_a_valid_reply(tmp_path: Path, mock_client: Any) -> None:
    new = "Name the French capital city."
    client = mock_client(MockRule(REWRITE, {"question": new}))
    out = _run("rewrite_question", CAPITAL, _ctx(tmp_path, client), style="formal")
    assert out.question == new and out.answer == "Paris"
    assert _outcomes(client) == ["valid"]
    assert "Style: formal" in client.provider.calls[0].messages[0]["content"]


def test_rewrite_keeps_the_task_statement_and_shows_it(tmp_path: Path,
                                                       mock_client: Any) -> None:
    statement = "Does Speaker 2's answer mean yes or no? Answer with yes or no only."
    state = SampleState(question="Speaker 1: 'Is he rich?' Speaker 2: 'He has a yacht.'",
                        answer="yes", answer_type=AnswerType.yes_no, instruction=statement)
    new = "Speaker 1 asks whether he is rich; Speaker 2 replies that he owns a yacht."
    client = mock_client(MockRule(REWRITE, {"question": new}))
    out = _run("rewrite_question", state, _ctx(tmp_path, client))
    assert (out.question, out.instruction) == (new, statement)
    assert statement in client.provider.calls[0].messages[0]["content"]


def test_rewrite_that_leaks_the_answer_is_repaired(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(REWRITE, {"question": "Is Paris the capital of France?"},
                                  times=1),
                         MockRule(REWRITE, {"question": "What is France's capital?"}))
    out = _run("rewrite_question", CAPITAL, _ctx(tmp_path, client))
    assert out.question == "What is France's capital?"
    assert _outcomes(client) == ["repaired"] and _calls(client) == 2
    assert "gives away the answer 'Paris'" in _last_prompt(client)


def test_persistent_leak_rejects_the_sample(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(REWRITE, {"question": "Is it Paris, France?"}))
    with pytest.raises(OperatorError) as err:
        _run("rewrite_question", CAPITAL, _ctx(tmp_path, client))
    message = str(err.value)
    assert message.startswith("rewrite_question: model output stayed invalid:")
    assert "gives away the answer" in message and "\n" not in message
    assert _calls(client) == 3


def test_unchanged_question_is_not_a_rewrite(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(REWRITE, {"question": CAPITAL.question.upper()}),
                         repair_rounds=0)
    with pytest.raises(OperatorError, match="unchanged"):
        _run("rewrite_question", CAPITAL, _ctx(tmp_path, client))


@pytest.mark.parametrize(("name", "state", "args"), [
    ("rewrite_question", CAPITAL, {}), ("build_context", CAPITAL, {}),
    ("synthesize_dialogue", APPLES, {}), ("transform_reasoning", PLANET, {}),
    ("translate", PLANET, {"target": "fr"}),
    ("to_multiple_choice", CAPITAL, {"distractors": "model"}),
])
def test_no_model_names_the_executor_role(tmp_path: Path, name: str, state: SampleState,
                                          args: dict[str, Any]) -> None:
    with pytest.raises(OperatorError, match=f"^{name} calls a model.*executor"):
        _run(name, state, _ctx(tmp_path, None), **args)


def test_bad_arguments_are_operator_errors(tmp_path: Path, mock_client: Any) -> None:
    ctx = _ctx(tmp_path, mock_client())
    with pytest.raises(OperatorError, match="style must be one of"):
        _run("rewrite_question", CAPITAL, ctx, style="poetic")
    with pytest.raises(OperatorError, match="target must be a language code"):
        _run("translate", CAPITAL, ctx, target="elvish")
    with pytest.raises(OperatorError, match="speakers must be between 2 and 4"):
        _run("synthesize_dialogue", APPLES, ctx, speakers=7)
    with pytest.raises(OperatorError, match="distractors must be dataset or model"):
        _run("to_multiple_choice", CAPITAL, ctx, distractors="llm")


def test_seed_comes_from_the_run_rng(tmp_path: Path, mock_client: Any) -> None:
    seeds = []
    for seed in (1, 1, 2):
        client = mock_client(MockRule(REWRITE, {"question": "Name France's capital."}))
        _run("rewrite_question", CAPITAL, _ctx(tmp_path, client, seed=seed))
        seeds.append(client.provider.calls[0].seed)
    assert seeds[0] == seeds[1] != seeds[2]


# ---------------------------------------------------------------- to_multiple_choice, model


def test_model_distractors_make_options(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(DISTRACT, {"distractors": ["Lyon", "Marseille", "Brussels"]}))
    ctx = _ctx(tmp_path, client, space=["Rome", "Paris", "Oslo"])
    out = _run("to_multiple_choice", CAPITAL, ctx, distractors="model")
    assert out.options == ["Paris", "Lyon", "Marseille", "Brussels"]
    assert out.answer_type == AnswerType.multiple_choice
    prompt = client.provider.calls[0].messages[0]["content"]
    assert "Give 3 plausible" in prompt and "- Rome" in prompt and "- Paris" not in prompt


def test_distractor_equal_to_an_alias_is_repaired(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(DISTRACT, {"distractors": ["Lyon", "paris", "Nice"]}, times=1),
                         MockRule(DISTRACT, {"distractors": ["Lyon", "Nice", "Lille"]}))
    out = _run("to_multiple_choice", CAPITAL, _ctx(tmp_path, client), distractors="model",
               n_options=4)
    assert out.options == ["Paris", "Lyon", "Nice", "Lille"]
    assert _outcomes(client) == ["repaired"]
    assert "'paris' is the correct answer" in _last_prompt(client)


def test_too_few_distinct_distractors_reject(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(DISTRACT, {"distractors": ["Lyon", "LYON!", "Nice"]}))
    with pytest.raises(OperatorError, match=r"to_multiple_choice: model output stayed invalid.*"
                                            "given twice"):
        _run("to_multiple_choice", CAPITAL, _ctx(tmp_path, client), distractors="model")
    client = mock_client(MockRule(DISTRACT, {"distractors": ["Lyon"]}))
    with pytest.raises(OperatorError, match="distractors: List should have at least 3 items"):
        _run("to_multiple_choice", CAPITAL, _ctx(tmp_path, client), distractors="model")


# ---------------------------------------------------------------- build_context

STORY = ("Last spring Lena took the night train across France. She woke up as it reached the "
         "capital, Paris, where the government of the country sits, and she spent a week "
         "walking along the Seine before heading south to Lyon.")


def _built(context: str = STORY, evidence: str = "it reached the capital, Paris",
           answer: str = "Paris") -> dict[str, str]:
    return {"context": context, "evidence": evidence, "answer_from_context": answer}


def test_build_context_writes_the_passage(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(CONTEXT, _built()))
    out = _run("build_context", CAPITAL, _ctx(tmp_path, client), kind="story", length_words=45)
    assert out.context == STORY and out.question == CAPITAL.question
    prompt = client.provider.calls[0].messages[0]["content"]
    assert "a short story" in prompt and "about 45" in prompt


def test_context_that_disagrees_with_the_answer_is_repaired(tmp_path: Path,
                                                            mock_client: Any) -> None:
    wrong = STORY.replace("capital, Paris", "capital, Lyon")
    client = mock_client(
        MockRule(CONTEXT, _built(wrong, "it reached the capital, Lyon", "Lyon"), times=1),
        MockRule(CONTEXT, _built()))
    out = _run("build_context", CAPITAL, _ctx(tmp_path, client), length_words=45)
    assert out.context == STORY and _outcomes(client) == ["repaired"]
    assert "must support the gold answer 'Paris'" in _last_prompt(client)


def test_context_checks_reject_bad_passages(tmp_path: Path, mock_client: Any) -> None:
    cases = [(_built(evidence="it reached Rome"), "copied word for word"),
             (_built(STORY + " The answer is Paris."), "must not announce the answer"),
             (_built(), "has 39 words; write about 300")]
    for reply, reason in cases:
        client = mock_client(MockRule(CONTEXT, reply), repair_rounds=1)
        length = 300 if "300" in reason else 45
        with pytest.raises(OperatorError, match=reason):
            _run("build_context", CAPITAL, _ctx(tmp_path, client), length_words=length)


# ---------------------------------------------------------------- synthesize_dialogue

TURNS = [{"speaker": "Ana", "text": "Tom bought 12 apples on Monday."},
         {"speaker": "Raj", "text": "Raj: Nice. Did he keep them all?"},
         {"speaker": "Ana", "text": "No, he gave 5 of\nthem to Mia."},
         {"speaker": "raj", "text": "Mia must have been happy."}]


def test_dialogue_replaces_the_context(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(DIALOGUE, {"turns": TURNS}))
    out = _run("synthesize_dialogue", APPLES, _ctx(tmp_path, client), speakers=["Ana", "Raj"],
               turns=4)
    assert out.dialog == ["Ana: Tom bought 12 apples on Monday.",
                          "Raj: Nice. Did he keep them all?",
                          "Ana: No, he gave 5 of them to Mia.", "Raj: Mia must have been happy."]
    assert out.context == "\n".join(out.dialog) and out.question == APPLES.question
    assert "between\nAna and Raj" in client.provider.calls[0].messages[0]["content"]


def test_schemas_pin_speakers_and_counts_for_the_decoder(tmp_path: Path,
                                                        mock_client: Any) -> None:
    client = mock_client(MockRule(DIALOGUE, {"turns": TURNS}), MockRule(HARDER, HARDER_PLANET),
                         MockRule(TRANSLATE, {**FR_PLANET, "dialog": ["A: x"]}))
    ctx = _ctx(tmp_path, client)
    _run("synthesize_dialogue", APPLES, ctx, speakers=["Ana", "Raj"], turns=4)
    _run("transform_reasoning", PLANET, ctx)
    _run("translate", PLANET.model_copy(update={"dialog": ["A: y"]}), ctx, target="fr")
    dialogue, harder, french = (c.json_schema for c in client.provider.calls)
    assert dialogue["$defs"]["Turn"]["properties"]["speaker"]["enum"] == ["Ana", "Raj"]
    assert (dialogue["properties"]["turns"]["minItems"],
            dialogue["properties"]["turns"]["maxItems"]) == (2, 6)
    assert harder["properties"]["options"]["minItems"] == harder["properties"]["options"][
        "maxItems"] == 4
    assert french["properties"]["dialog"]["maxItems"] == 1


def test_dialogue_that_drops_a_number_is_repaired(tmp_path: Path, mock_client: Any) -> None:
    dropped = [dict(t) for t in TURNS]
    dropped[2]["text"] = "No, he gave some of them to Mia."
    client = mock_client(MockRule(DIALOGUE, {"turns": dropped}, times=1),
                         MockRule(DIALOGUE, {"turns": TURNS}))
    out = _run("synthesize_dialogue", APPLES, _ctx(tmp_path, client), speakers=["Ana", "Raj"],
               turns=4)
    assert out.dialog[2] == "Ana: No, he gave 5 of them to Mia."
    assert _outcomes(client) == ["repaired"]
    assert "the numbers 5 are missing" in _last_prompt(client)


def test_dialogue_that_answers_or_miscasts_is_rejected(tmp_path: Path, mock_client: Any) -> None:
    leaky = [*TURNS, {"speaker": "Ana", "text": "So he has 7 left."}]
    stranger = [*TURNS[:3], {"speaker": "Zoe", "text": "Hello."}]
    echo = [*TURNS, TURNS[0]]
    for turns, reason in [(leaky, "gives away the answer '7'"), (stranger, "unknown speaker"),
                          (echo, "turn 5 repeats an earlier turn")]:
        client = mock_client(MockRule(DIALOGUE, {"turns": turns}))
        with pytest.raises(OperatorError, match=f"synthesize_dialogue: .*{reason}"):
            _run("synthesize_dialogue", APPLES, _ctx(tmp_path, client),
                 speakers=["Ana", "Raj"], turns=4)


def test_default_speakers_avoid_names_in_the_text(tmp_path: Path, mock_client: Any) -> None:
    state = APPLES.model_copy(update={"context": "Alice and Ben bought 12 apples and ate 5."})
    client = mock_client(MockRule(DIALOGUE, "{}"), repair_rounds=0)
    with pytest.raises(OperatorError):
        _run("synthesize_dialogue", state, _ctx(tmp_path, client), speakers=3)
    head = client.provider.calls[0].messages[0]["content"].split("Every speaker")[0]
    assert "Alice" not in head and "Ben" not in head and head.count(",") == 1


# ---------------------------------------------------------------- transform_reasoning

HARDER_PLANET = {"question": "Which planet lies just beyond the orbit of the planet we live on?",
                 "rationale": "Earth is third from the Sun; the fourth planet is Mars.",
                 "options": ["Venus", "Mars", "Mercury", "Jupiter"], "answer": "Mars"}


def test_transform_reasoning_replaces_question_options_answer(tmp_path: Path,
                                                              mock_client: Any) -> None:
    client = mock_client(MockRule(HARDER, HARDER_PLANET))
    out = _run("transform_reasoning", PLANET, _ctx(tmp_path, client), kind="multi_hop")
    assert (out.question, out.options, out.answer) == (
        HARDER_PLANET["question"], HARDER_PLANET["options"], "Mars")
    assert "Give 4 new options" in client.provider.calls[0].messages[0]["content"]


def test_answer_missing_from_options_is_repaired(tmp_path: Path, mock_client: Any) -> None:
    bad = {**HARDER_PLANET, "options": ["Venus", "Mercury", "Jupiter", "Saturn"]}
    client = mock_client(MockRule(HARDER, bad, times=1), MockRule(HARDER, HARDER_PLANET))
    out = _run("transform_reasoning", PLANET, _ctx(tmp_path, client))
    assert out.answer in out.options and _outcomes(client) == ["repaired"]
    assert "exactly one of the options" in _last_prompt(client)


def test_counterfactual_checks_form_and_change(tmp_path: Path, mock_client: Any) -> None:
    good = {"question": "Suppose Tom had bought 20 apples instead. How many would he have "
                        "left after giving 5 to Mia?", "answer": "15"}
    client = mock_client(MockRule(HARDER, good))
    out = _run("transform_reasoning", APPLES, _ctx(tmp_path, client), kind="counterfactual")
    assert (out.answer, out.options, out.context) == ("15", [], APPLES.context)
    for reply, reason in [({**good, "answer": "7"}, "must differ from the original"),
                          ({**good, "answer": "fifteen"}, "must be a number only")]:
        client = mock_client(MockRule(HARDER, reply))
        with pytest.raises(OperatorError, match=reason):
            _run("transform_reasoning", APPLES, _ctx(tmp_path, client), kind="counterfactual")


# ---------------------------------------------------------------- translate

FR_PLANET = {"question": "Quelle planète est surnommée la planète rouge ?",
             "options": ["Mars", "Vénus", "Jupiter", "Saturne"], "answer": "Marte"}


def test_translate_keeps_the_answer_on_its_option(tmp_path: Path, mock_client: Any) -> None:
    state = PLANET.model_copy(update={"options": ["Venus", "Mars", "Jupiter", "Saturn"]})
    fr = {**FR_PLANET, "options": ["Vénus", "Mars", "Jupiter", "Saturne"]}
    client = mock_client(MockRule(TRANSLATE, fr))
    out = _run("translate", state, _ctx(tmp_path, client), target="fr")
    assert out.question == FR_PLANET["question"] and out.answer == "Mars"
    assert out.options == ["Vénus", "Mars", "Jupiter", "Saturne"]
    assert "into French" in client.provider.calls[0].messages[0]["content"]


def test_translate_repairs_a_lost_option(tmp_path: Path, mock_client: Any) -> None:
    client = mock_client(MockRule(TRANSLATE, {**FR_PLANET, "options": ["Mars", "Vénus"]}, times=1),
                         MockRule(TRANSLATE, FR_PLANET))
    out = _run("translate", PLANET, _ctx(tmp_path, client), target="French")
    assert out.options[0] == out.answer == "Mars" and _outcomes(client) == ["repaired"]
    assert "options: List should have at least 4 items" in _last_prompt(client)


def test_translate_dialogue_and_numeric_answer(tmp_path: Path, mock_client: Any) -> None:
    lines = ["Ana: Tom bought 12 apples.", "Raj: He gave 5 to Mia."]
    state = APPLES.model_copy(update={"dialog": lines, "context": "\n".join(lines)})
    de = {"question": "Wie viele Äpfel hat Tom noch?", "context": "",
          "dialog": ["Ana: Tom kaufte 12 Äpfel.", "Raj: Er gab Mia 5."], "answer": "sieben"}
    client = mock_client(MockRule(TRANSLATE, de))
    out = _run("translate", state, _ctx(tmp_path, client), target="de-DE")
    assert out.answer == "7" and out.dialog == de["dialog"]
    assert out.context == "Ana: Tom kaufte 12 Äpfel.\nRaj: Er gab Mia 5."
    untranslated = {**de, "question": state.question}
    client = mock_client(MockRule(TRANSLATE, untranslated))
    with pytest.raises(OperatorError, match="not translated into German"):
        _run("translate", state, _ctx(tmp_path, client), target="de")


# ---------------------------------------------------------------- compose_items


def _sibling(i: int, context: str = "", options: list[str] | None = None) -> SourceSample:
    return SourceSample(dataset_id="d", source_id=f"s{i}", question=f"Question {i}?",
                        context=context, answer=f"answer {i}", options=options or [])


def test_compose_accounts_joins_contexts(tmp_path: Path) -> None:
    asked: list[int] = []

    def siblings(n: int) -> list[SourceSample]:
        asked.append(n)
        return [_sibling(i, f"Story {i}.") for i in range(n)]

    out = _run("compose_items", APPLES, _ctx(tmp_path, None, siblings=siblings), n=2)
    assert asked == [2] and (out.question, out.answer) == (APPLES.question, "7")
    parts = out.context.split("\n\n")
    assert [p.split(": ", 1)[0] for p in parts] == ["Account 1", "Account 2", "Account 3"]
    assert sorted(p.split(": ", 1)[1] for p in parts) == sorted(
        [APPLES.context, "Story 0.", "Story 1."])


def test_compose_multi_question_joins_answers(tmp_path: Path) -> None:
    def siblings(n: int) -> list[SourceSample]:
        return [_sibling(1, "Passage one."), _sibling(2, options=["x", "answer 2"])][:n]

    out = _run("compose_items", APPLES, _ctx(tmp_path, None, siblings=siblings),
               mode="multi_question")
    assert out.answer == "7; answer 1; answer 2" and out.options == []
    assert out.answer_type == AnswerType.short_text
    assert out.question.splitlines() == [
        'Answer each of the 3 questions below, in order, separated by "; ".',
        f"1. {APPLES.question}", "2. Question 1?", "3. Question 2?", "   Options: x | answer 2"]
    assert out.context == (f"Passage for question 1: {APPLES.context}\n\n"
                           "Passage for question 2: Passage one.")


def test_compose_needs_enough_siblings(tmp_path: Path) -> None:
    with pytest.raises(OperatorError, match="no sibling samples"):
        _run("compose_items", APPLES, _ctx(tmp_path, None))
    ctx = _ctx(tmp_path, None, siblings=lambda n: [_sibling(0, "x")])
    with pytest.raises(OperatorError, match="needs 3 sibling samples, the dataset has 1 left"):
        _run("compose_items", APPLES, ctx, n=3)
    ctx = _ctx(tmp_path, None, siblings=lambda n: [_sibling(i) for i in range(n)])
    with pytest.raises(OperatorError, match="sibling s0 has no context"):
        _run("compose_items", APPLES, ctx)


# ---------------------------------------------------------------- registry, prompts, budget


def test_registration() -> None:
    for name in ("rewrite_question", "build_context", "synthesize_dialogue",
                 "transform_reasoning", "translate"):
        op = get_operator(name)
        assert op.calls_model and op.cost_class == "model"
    for name in ("compose_items", "to_multiple_choice"):
        assert not get_operator(name).calls_model and get_operator(name).cost_class == "cheap"
    distractors = get_operator("to_multiple_choice").describe()["args_schema"]["properties"]
    assert "executor model" in distractors["distractors"]["description"]


def test_every_prompt_template_renders_from_an_operator(tmp_path: Path, mock_client: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: dict[str, str] = {}

    def recording(name: str, **values: Any) -> str:
        rendered[name] = render(name, **values)
        return rendered[name]

    monkeypatch.setattr(modelcall, "render", recording)
    client = mock_client(MockRule(REWRITE, {"question": "Name France's capital."}),
                         MockRule(DISTRACT, {"distractors": ["Lyon", "Nice", "Metz"]}),
                         MockRule(CONTEXT, _built()), MockRule(DIALOGUE, {"turns": TURNS}),
                         MockRule(HARDER, HARDER_PLANET), MockRule(TRANSLATE, FR_PLANET))
    ctx = _ctx(tmp_path, client, space=["Rome"])
    _run("rewrite_question", CAPITAL, ctx)
    _run("to_multiple_choice", CAPITAL, ctx, distractors="model")
    _run("build_context", CAPITAL, ctx, length_words=45, kind="table-description")
    _run("synthesize_dialogue", APPLES, ctx, speakers=["Ana", "Raj"], turns=4)
    _run("transform_reasoning", PLANET, ctx)
    _run("translate", PLANET, ctx, target="fr")
    files = {p.name for p in Path(textgen.__file__).parents[1].glob("prompts/op_*.j2")}
    assert set(rendered) == files and len(files) == 6
    for name, text in rendered.items():
        assert "{{" not in text and "{%" not in text, name
        assert "Paris" in text or "apples" in text or "Red Planet" in text, name


def test_long_contexts_are_clipped_with_a_marker(tmp_path: Path, mock_client: Any) -> None:
    long = " ".join(f"word{i}" for i in range(3000))
    clipped = modelcall.clip(long, 1000)
    assert len(clipped) <= 1000 and clipped.endswith("characters cut]")
    assert long.startswith(clipped.split(" [… ")[0])
    assert modelcall.clip("short", 1000) == "short"
    client = mock_client(MockRule(REWRITE, {"question": "Name France's capital."}))
    _run("rewrite_question", CAPITAL.model_copy(update={"context": long}), _ctx(tmp_path, client))
    prompt = client.provider.calls[0].messages[0]["content"]
    assert len(prompt) < modelcall.CONTEXT_BUDGET + 1500 and "characters cut]" in prompt
    state = APPLES.model_copy(update={"context": long * 2})
    with pytest.raises(OperatorError, match="too long for one prompt"):
        _run("synthesize_dialogue", state, _ctx(tmp_path, client))
