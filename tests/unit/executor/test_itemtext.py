"""Items say what their dataset asks: its task statement before the answer format, option codes
spelled out; checked on the helpers, on the first state of a sample, and on built items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchagent.executor.instructions import rules_instruction
from benchagent.executor.itemtext import item_instruction, spell_out_codes, spelled_space
from benchagent.executor.sample import PairJob, initial_state, process_candidate
from benchagent.pool import Pool
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    BenchmarkSample,
    DatasetCard,
    Grounding,
    PlanStep,
    SourceSample,
    Subtask,
)

MC = rules_instruction(Subtask(name="s", description="d"))
YES_NO = rules_instruction(Subtask(name="s", description="d", answer_type=AnswerType.yes_no))


def test_the_statement_comes_before_the_answer_format() -> None:
    assert item_instruction("Does Speaker 2's answer mean yes or no?", YES_NO, "Speaker 1: ...") \
        == "Does Speaker 2's answer mean yes or no? Answer the question with yes or no only."
    assert item_instruction("Sort the following words alphabetically:", "Reply briefly.",
                            "stick gelatine") == "Sort the following words alphabetically. " \
                                                 "Reply briefly."
    assert item_instruction("", MC, "What is 2 + 2?") == MC


def test_no_sentence_is_said_twice() -> None:
    assert item_instruction("Answer the question with yes or no only.", YES_NO, "Is it?") == \
        "Answer the question with yes or no only."
    said = "Which of these is a fruit?"
    assert item_instruction(said, MC, f"{said} An apple, a chair or a car.") == MC


def test_a_statement_of_several_lines_is_its_own_paragraph() -> None:
    table = "Here is a table:\nname, age\nLouis, 7"
    assert item_instruction(table, MC, "How old is Louis?") == f"{table}.\n\n{MC}"


def test_true_false_codes_are_spelled_out() -> None:
    assert spell_out_codes(["T", "F"], "F", [], []) == (["True", "False"], "False", [])
    assert spell_out_codes(["y", "n"], "y", ["y"], []) == (["yes", "no"], "yes", ["yes"])
    assert spell_out_codes([], "T", [], ["F", "T"]) == ([], "True", [])
    assert spelled_space(["F", "T"]) == ["False", "True"]


def test_codes_that_stand_for_no_known_words_stay() -> None:
    assert spell_out_codes(["A", "B"], "A", [], []) == (["A", "B"], "A", [])
    assert spell_out_codes(["T", "Tea"], "T", [], []) == (["T", "Tea"], "T", [])
    assert spell_out_codes([], "T", [], ["T", "T"]) == ([], "T", [])  # one code is no pair


def _job(answer_type: AnswerType, tmp_path: Path, answers: list[str]) -> PairJob:
    card = DatasetCard(id="d1", name="facts", format="bigbench", source="x",
                       answer_type=answer_type)
    subtask = Subtask(name="facts", description="true or false", answer_type=answer_type)
    grounding = Grounding(subtask="facts", dataset_id="d1", score=1.0, reason="", plan=[])
    return PairJob(subtask=subtask, grounding=grounding, card=card, answer_space=answers,
                   instruction=rules_instruction(subtask), run_dir=tmp_path, seed=0,
                   verifier=None, models_used=[])


def test_first_state_states_the_question_and_spells_codes(tmp_path: Path) -> None:
    source = SourceSample(dataset_id="d1", source_id="s1", question="Tire tread wears evenly.",
                          options=["T", "F"], answer="F",
                          instruction="Distinguish true statements from misconceptions.")
    state = initial_state(source, _job(AnswerType.multiple_choice, tmp_path, ["F", "T"]))
    assert state.options == ["True", "False"] and state.answer == "False"
    assert state.instruction == f"Distinguish true statements from misconceptions. {MC}"
    assert state.question == "Tire tread wears evenly."


def test_a_statement_that_is_the_only_question_is_not_repeated(tmp_path: Path) -> None:
    statement = "Which of the following sentences makes more sense?"
    source = SourceSample(dataset_id="d1", source_id="s1", options=["A b.", "B a."],
                          answer="A b.", instruction=statement)
    state = initial_state(source, _job(AnswerType.multiple_choice, tmp_path, ["A b."]))
    assert (state.question, state.instruction) == (statement, MC)


def _built(pool_path: Path, tmp_path: Path, answer_type: AnswerType, count: int = 4,
           first: str = "shuffle_options") -> list[BenchmarkSample]:
    """The first items of the pool's one dataset, built and verified (no planner, no model)."""
    pool = Pool.load([pool_path])
    (card,) = pool.cards
    subtask = Subtask(name="task", description=card.description or card.name,
                      answer_type=answer_type)
    plan = [PlanStep(operator=first)]
    grounding = Grounding(subtask="task", dataset_id=card.id, score=1.0, reason="", plan=plan)
    sources = pool.samples(card.id)
    job = PairJob(subtask=subtask, grounding=grounding, card=card,
                  answer_space=sorted({s.answer for s in sources}),
                  instruction=rules_instruction(subtask), run_dir=tmp_path, seed=0,
                  verifier=None, models_used=[])
    outcomes = [process_candidate(s, rank, job) for rank, s in enumerate(sources[:count])]
    assert all(o.accepted for o in outcomes), [o.checks for o in outcomes]
    return [o.sample for o in outcomes if o.sample is not None]


def test_built_implicature_items_ask_their_question(shared_pools: Path, tmp_path: Path) -> None:
    items = _built(shared_pools / "bigbench" / "implicatures", tmp_path, AnswerType.yes_no)
    for item in items:
        assert item.instruction == ("Does Speaker 2's answer mean yes or no? Answer the "
                                    "question with yes or no only.")
        assert item.question.startswith("Speaker 1: ")
    assert items[0].question == ("Speaker 1: 'But aren't you afraid?' Speaker 2: 'Ma'am, "
                                 "sharks never attack anybody.'")


def test_built_sports_items_ask_their_question(shared_pools: Path, tmp_path: Path) -> None:
    items = _built(shared_pools / "bigbench" / "sports_understanding", tmp_path,
                   AnswerType.multiple_choice)
    for item in items:
        assert item.instruction == (
            "Determine whether the following statement or statements are plausible or "
            f"implausible. {MC}")
        assert item.question.endswith("\nPlausible/implausible?")
        assert sorted(item.options) == ["implausible", "plausible"]
    assert items[0].question == "Jamal Murray was perfect from the line\nPlausible/implausible?"


def test_built_items_of_a_task_without_prefix_state_its_description(shared_pools: Path,
                                                                   tmp_path: Path) -> None:
    (item, *_) = _built(shared_pools / "bigbench" / "geometric_shapes", tmp_path,
                        AnswerType.multiple_choice, count=1)
    assert item.instruction == f"Name geometric shapes from their SVG paths. {MC}"


@pytest.fixture
def true_false_pool(tmp_path: Path) -> Path:
    facts = [("Water boils at 100 C at sea level.", "T"), ("The Moon is a planet.", "F"),
             ("Bats are mammals.", "T"), ("Glass is a liquid at room temperature.", "F"),
             ("Spiders are insects.", "F"), ("Sound needs a medium.", "T")] * 2
    rows = [{"id": f"f{i}", "statement": f"{text} (fact {i})", "label": label}
            for i, (text, label) in enumerate(facts)]
    root = tmp_path / "pool"
    root.mkdir()
    (root / "facts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "facts.benchagent.toml").write_text(
        '[dataset]\nname = "Science facts"\ndescription = "True or false science facts."\n'
        'instruction = "Is the statement true or false?"\n'
        '[fields]\nid = "id"\nquestion = "statement"\nanswer = "label"\n')
    return root


def test_a_mapping_files_instruction_is_shown(true_false_pool: Path, tmp_path: Path) -> None:
    items = _built(true_false_pool, tmp_path, AnswerType.multiple_choice,
                   first="to_multiple_choice")
    for item in items:
        assert item.instruction.startswith("Is the statement true or false? ")
        assert sorted(item.options) == ["False", "True"]  # the T / F codes spelled out
        assert item.answer in item.options
    assert items[1].answer == "False"  # "The Moon is a planet." is F


def test_the_verifier_prompt_can_show_the_instruction() -> None:
    values = {"context": "", "question": "Speaker 1: 'Rich?' Speaker 2: 'He owns a yacht.'",
              "options": ["yes", "no"], "answer": "yes", "media": [], "source": ""}
    statement = "Does Speaker 2's answer mean yes or no?"
    assert statement in render("verify_user.j2", instruction=statement, **values)
    assert "Instruction" not in render("verify_user.j2", **values)  # not given: not shown


def _bigbench_task(root: Path, description: str, examples: list[dict[str, object]]) -> Path:
    root.mkdir(parents=True)
    (root / "task.json").write_text(json.dumps({"description": description,
                                                "examples": examples}))
    return root


def test_an_anachronism_item_asks_whether_there_is_one(tmp_path: Path) -> None:
    task = _bigbench_task(tmp_path / "anachronisms",
                          "Identify whether a given statement contains an anachronism",
                          [{"input": "Vivaldi streamed his concerto online to his subscribers.",
                            "target_scores": {"Yes": 1, "No": 0}},
                           {"input": "Mozart played the harpsichord.",
                            "target_scores": {"Yes": 0, "No": 1}}])
    items = _built(task, tmp_path / "run", AnswerType.yes_no, count=2)
    assert [i.instruction for i in items] == [
        "Identify whether a given statement contains an anachronism. Answer the question with "
        "yes or no only."] * 2
    assert items[0].question == "Vivaldi streamed his concerto online to his subscribers."


def test_misconception_items_spell_out_their_codes(tmp_path: Path) -> None:
    task = _bigbench_task(tmp_path / "misconceptions",
                          "Distinguish true statements from common misconceptions.",
                          [{"input": "Bulls are enraged by the colour red.",
                            "target_scores": {"T": 0, "F": 1}},
                           {"input": "Bats are mammals.", "target_scores": {"T": 1, "F": 0}}])
    items = _built(task, tmp_path / "run", AnswerType.multiple_choice, count=2)
    assert [(sorted(i.options), i.answer) for i in items] == [
        (["False", "True"], "False"), (["False", "True"], "True")]
    assert items[0].instruction == f"Distinguish true statements from common misconceptions. {MC}"


def test_a_masked_span_or_a_bare_dialogue_says_what_it_asks() -> None:
    from benchagent.executor.itemtext import implied_statement
    assert implied_statement("My training lasts for <MASK> .", from_dialog=False) == (
        "Choose what fills <MASK> in the text.")
    assert implied_statement("Is this seat taken?\nSorry, it is.", from_dialog=True) == (
        "Write the next turn of this dialogue.")
    assert implied_statement("Is this seat taken?", from_dialog=False) == ""


def test_a_free_form_question_that_states_its_format_keeps_it_alone(tmp_path: Path) -> None:
    question = ("Extract all relations between the speakers of this dialogue. Format each "
                "relation as (entity1 => relation => entity2).")
    source = SourceSample(dataset_id="d1", source_id="s1", question=question,
                          context="Speaker 1: Hi Monica.", answer="(Speaker 1 => per:friends "
                                                                   "=> Monica)")
    state = initial_state(source, _job(AnswerType.free_form, tmp_path, []))
    assert state.instruction == ""  # no "answer in a few sentences" against the stated format
    plain = SourceSample(dataset_id="d1", source_id="s2", question="Why did the speaker leave?",
                         answer="She was late.")
    free = rules_instruction(Subtask(name="s", description="d", answer_type=AnswerType.free_form))
    assert initial_state(plain, _job(AnswerType.free_form, tmp_path, [])).instruction == free
    mc_source = SourceSample(dataset_id="d1", source_id="s3", options=["a", "b"], answer="a",
                             question="Provide only the category name as output.")
    assert initial_state(mc_source, _job(AnswerType.multiple_choice, tmp_path,
                                         ["a", "b"])).instruction == MC


def test_other_options_the_source_counts_right_are_left_out(tmp_path: Path) -> None:
    source = SourceSample(dataset_id="d1", source_id="s1", question="This SVG path draws a",
                          options=["circle", "kite", "ellipse", "line"], answer="circle",
                          answer_aliases=["circle", "ellipse"])
    state = initial_state(source, _job(AnswerType.multiple_choice, tmp_path, []))
    assert (state.options, state.answer) == (["circle", "kite", "line"], "circle")
    pair = SourceSample(dataset_id="d1", source_id="s2", question="q", options=["a", "b"],
                        answer="a", answer_aliases=["a", "b"])  # nothing would be left to choose
    assert initial_state(pair, _job(AnswerType.multiple_choice, tmp_path, [])).options == [
        "a", "b"]


def test_a_dataset_that_leaves_its_question_unsaid_takes_the_task_its_card_states(
        tmp_path: Path) -> None:
    from benchagent.executor.itemtext import card_task, unsaid_task
    described = ("A multiple-choice dataset where each example presents a short everyday "
                 "scenario and asks the model to select the most appropriate character trait. "
                 "It evaluates trait inference.")
    assert card_task(described) == "Select the most appropriate character trait."
    assert card_task("The task is to pick the word that rhymes, from four.") == (
        "Pick the word that rhymes, from four.")
    assert card_task("Short scenarios with adjectives.") == ""

    def sample(i: int, question: str) -> SourceSample:
        return SourceSample(dataset_id="d1", source_id=f"s{i}", question=question,
                            options=["calm", "furious"], answer="calm")
    bare = [sample(i, f"Mike stamped his feet after losing contest {i}.") for i in range(3)]
    sentence_as_question = sample(9, "Can you grab some milk on your way home?")
    assert unsaid_task(described, [*bare, sentence_as_question]) == (
        "Select the most appropriate character trait.")
    asked = [sample(i, f"Why did Mike stamp his feet after contest {i}?") for i in range(3)]
    assert unsaid_task(described, [*asked, bare[0]]) == ""  # the samples ask their own
    job = _job(AnswerType.multiple_choice, tmp_path, [])
    job.unsaid_task = unsaid_task(described, bare)
    for source in (bare[0], sentence_as_question):
        assert initial_state(source, job).instruction == (
            f"Select the most appropriate character trait. {MC}")
