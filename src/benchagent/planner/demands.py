"""What a request asks for besides its content, and whether a plan gives it: items in several
languages, and conversations between speakers (spoken by distinct voices when the request wants
them heard). Content is measured by relevance (coverage.py); these demands are not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from benchagent.operators.translation import LANGUAGES, language_name
from benchagent.planner.request import query_modalities
from benchagent.pool import Pool
from benchagent.records import Allocation, DatasetCard, FieldRole, Grounding, Modality, Query

NOT_MET = "not met: "
_SEVERAL_LANGUAGES = re.compile(
    r"\b(multi-?lingual|several languages|many languages|other languages|mixed[- ]language|"
    r"code[- ]switch\w*|cross[- ]lingual|non[- ]english|switch(es|ing)? between languages)\b",
    re.IGNORECASE)
_TALK_NOUNS = r"conversations?|dialogues?|dialogs?|multi-?turn|multi-?(?:party|speaker)"
# A request's heading names conversations with one of these nouns.
_CONVERSATION_NOUN = re.compile(rf"\b({_TALK_NOUNS})\b", re.IGNORECASE)
# A text about conversations: those nouns, numbered speakers, or talk between people.
_CONVERSATION = re.compile(
    rf"\b({_TALK_NOUNS}|speaker \d|utterances?|between (several |two |three |multiple |"
    r"different )?(speakers|people|participants|persons|interlocutors))\b", re.IGNORECASE)
_EXECUTOR_HINT = "an executor model (--model SPEC, or --role executor=SPEC)"


@dataclass(frozen=True)
class Demand:
    """One demand of the request, and how the plan meets it (`served_by`) or what it lacks."""

    name: str
    served_by: str | None
    lacking: str = ""

    def line(self) -> str:
        if self.served_by is not None:
            return f"{self.name}: met by {self.served_by}"
        return f"{self.name}: not met; {self.lacking}"


@dataclass(frozen=True)
class PlannedData:
    """The datasets a plan draws items from, and what its operator chains do to them."""

    cards: list[DatasetCard]
    operators: set[str]
    translations: set[str]  # the languages planned translate steps make
    has_executor: bool

    @classmethod
    def of(cls, allocation: Allocation, groundings: Sequence[Grounding], pool: Pool,
           has_executor: bool) -> PlannedData:
        used = {(q.subtask, q.dataset_id) for q in allocation.quotas if q.quota > 0}
        steps = [s for g in groundings if (g.subtask, g.dataset_id) in used for s in g.plan]
        cards = list({d: pool.card(d) for _, d in sorted(used)}.values())
        targets = [str(s.args.get("target", "")) for s in steps if s.operator == "translate"]
        return cls(cards, {s.operator for s in steps},
                   {language_name(t) for t in targets if _is_language(t)}, has_executor)


def _is_language(text: str) -> bool:
    try:
        language_name(text)
    except ValueError:
        return False
    return True


def asked_languages(text: str) -> list[str]:
    """The languages other than English the request names, or ["several languages"] for a
    request that asks for several without naming them."""
    found = {n: m.start() for n in LANGUAGES.values() if n != "English"
             if (m := re.search(rf"\b{re.escape(n.split(' (')[0])}\b", text))}  # not "polish"
    if found:
        return sorted(found, key=found.__getitem__)
    return ["several languages"] if _SEVERAL_LANGUAGES.search(text) else []


def _language_demand(asked: list[str], planned: PlannedData) -> Demand:
    have = {language_name(c.language) for c in planned.cards if _is_language(c.language)}
    have |= planned.translations
    name = "items in " + ", ".join(asked)
    missing = [lang for lang in asked if lang not in have] if asked != ["several languages"] \
        else ([] if len(have - {"English"}) >= 1 else asked)
    if not missing:
        return Demand(name, "datasets or translations in " + ", ".join(sorted(have)))
    held = ", ".join(sorted(have)) or "no known language"
    how = ("the translate operator can make them, with " + _EXECUTOR_HINT) \
        if not planned.has_executor else "no plan translates into them"
    return Demand(name, None, f"the planned datasets are in {held}; {how}")


def _is_conversation(card: DatasetCard) -> bool:
    return FieldRole.dialog in card.fields or bool(_CONVERSATION.search(card.search_text()))


# "narratives and dialogues", "dialogues or stories": conversations as one kind of text of several
_ONE_OF_SEVERAL = re.compile(r"\b(and|or)\s+$|^\s*(and|or)\b")


def conversation_topic(query: Query) -> bool:
    """The request is about conversations: its heading (the words before a colon, or the
    whole request) names them, not as one of several kinds of text."""
    head = query.description.split(":", 1)[0]
    for match in _CONVERSATION_NOUN.finditer(head):
        before, after = head[:match.start()], head[match.end():]
        if not (_ONE_OF_SEVERAL.search(before) or _ONE_OF_SEVERAL.search(after)):
            return True
    return False


def off_form(query: Query, cards: Sequence[DatasetCard]) -> dict[str, str]:
    """Card id -> why it cannot serve the request whatever its content: a request about
    conversations is not served by a dataset that holds none, when some of `cards` do."""
    if not conversation_topic(query):
        return {}
    silent = [c.id for c in cards if not _is_conversation(c)]
    if len(silent) == len(cards):
        return {}
    return {cid: "it holds no conversations, and the request is about conversations"
            for cid in silent}


def _conversation_demand(spoken: bool, planned: PlannedData) -> Demand:
    name = "spoken conversations between speakers" if spoken else "conversations between speakers"
    talk = [c.name for c in planned.cards if _is_conversation(c)]
    if "synthesize_dialogue" in planned.operators:
        talk.append("dialogues synthesised by the executor model")
    if not talk:
        how = ("synthesize_dialogue can make dialogues from other items, with " + _EXECUTOR_HINT)
        return Demand(name, None, f"no planned dataset holds conversations; {how}")
    if spoken and "concat_dialogue" not in planned.operators:
        return Demand(name, None, f"{', '.join(talk)} hold conversations, but no plan speaks "
                                  "them with a voice per speaker (concat_dialogue)")
    return Demand(name, ", ".join(talk))


def request_demands(query: Query, allocation: Allocation, groundings: Sequence[Grounding],
                    pool: Pool, has_executor: bool) -> list[Demand]:
    """The request's language and conversation demands, each met by the plan or not."""
    text = query.description
    planned = PlannedData.of(allocation, groundings, pool, has_executor)
    demands = []
    asked = asked_languages(text)
    if asked:
        demands.append(_language_demand(asked, planned))
    if _CONVERSATION.search(text):
        spoken = Modality.audio in query_modalities(query)
        demands.append(_conversation_demand(spoken, planned))
    return demands


def unmet_notes(demands: Sequence[Demand]) -> list[str]:
    return [NOT_MET + d.line().replace(": not met; ", ": ", 1) for d in demands
            if d.served_by is None]


def languages_the_pool_lacks(query: Query, pool: Pool) -> list[str]:
    """The languages the request names that no dataset of the pool is in."""
    held = {language_name(c.language) for c in pool.cards if _is_language(c.language)}
    asked = asked_languages(query.description)
    if asked == ["several languages"]:
        return [] if held - {"English"} else asked
    return [lang for lang in asked if lang not in held]
