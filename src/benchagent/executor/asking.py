"""Does an item ask something? Rules a reviewer applies before reading the answer.

An item asks something when its text (instruction, context, question and what its media show
or say) holds a question, a task statement ("Sort the following words alphabetically:",
"Determine whether the statement is plausible"), a blank to fill (`<MASK>`, `___`), a sentence
stem its options complete ("This is an example of"), or options that are statements about the
text (which of them is true). Sentences that only say how to answer ("Answer the question by
choosing exactly one of the options.") state no task, and questions quoted inside a dialogue
("Speaker 1: 'But aren't you afraid?'") are the speakers', not the item's.

A yes/no item needs more: a question or task statement that says what "yes" means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)\]]*\s+|\n+")
_CLAUSE = re.compile(r"[,;:]|\s+-\s+|\band\b|\bthen\b")
# Speech: a quoted utterance, or a labelled dialogue turn up to the next label or line end.
_QUOTED = re.compile(r"(?<![A-Za-z])['\"‘“][^'\"‘’“”\n]{1,400}?[?!.]['\"’”]")
_TURN = re.compile(r"(?:\b(?:Speaker|Person|User|Customer|Agent|Assistant)\s*\d*|\b[A-PR-Z])"
                   r"\s*:(?:(?!\b(?:Speaker|Person|[A-PR-Z])\s*\d*\s*:)[^\n])*")
_BLANK = re.compile(r"<\s*mask\s*>|\[\s*(?:mask|blank)\s*\]|_{3,}|\(\s*_+\s*\)|<\s*blank\s*>",
                    re.IGNORECASE)
_OPENERS = frozenset({"please", "now", "then", "first", "finally", "so", "just", "carefully",
                      "also", "next"})
# Sentence openings that make a question even without its "?" ("when", "how" open clauses,
# "Will" and "Is" open statements about a Will or after an abbreviation's full stop).
_INTERROGATIVES = frozenset({"which", "what", "who", "whom", "whose"})
# "How did …", "Why is …": these open a question only before an auxiliary verb.
_WH_ADVERBS = frozenset({"how", "why", "when", "where"})
_AUXILIARIES = frozenset({
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "would", "should", "will",
    "has", "have", "had", "may", "might", "must", "many", "much", "long", "often", "far", "old",
})
_TASK_VERBS = frozenset({
    "answer", "choose", "select", "pick", "identify", "determine", "decide", "find", "sort",
    "classify", "categorize", "categorise", "extract", "recognize", "recognise", "name", "list",
    "translate", "explain", "describe", "predict", "complete", "fill", "guess", "tell", "state",
    "give", "compute", "calculate", "count", "estimate", "infer", "judge", "rate", "rank",
    "arrange", "match", "label", "summarize", "summarise", "write", "generate", "provide",
    "evaluate", "assess", "indicate", "say", "respond", "continue", "rewrite", "correct",
    "detect", "locate", "compare", "convert", "solve", "simplify", "read", "listen", "look",
    "transcribe", "reply", "spell", "define", "paraphrase", "check", "verify", "output",
    "suggest", "recommend", "propose", "reorder", "unscramble", "decode", "interpret", "resolve",
    "distinguish", "annotate", "mention", "specify", "figure", "report",
})
# What follows a task verb used as one: "Sort the", "Determine whether", "Listen to", "Tell me".
# A verb followed by anything else is a name ("Mark helped") or a listed word ("select gummy").
_IMPERATIVE_FOLLOWERS = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "all", "each", "every", "any", "some",
    "one", "two", "three", "both", "either", "which", "what", "who", "whom", "whose", "whether",
    "if", "how", "why", "where", "when", "me", "us", "it", "them", "your", "its", "their",
    "his", "her", "to", "from", "in", "on", "at", "for", "with", "between", "among", "by",
    "about", "out", "up", "down", "only", "carefully", "briefly", "exactly", "yes", "no",
    "true", "false", "whatever", "following", "next", "most", "best", "correct", "missing",
})
# Words that only say how to answer: a sentence made of these and function words states no task.
_FORMAT_WORDS = frozenset({
    "answer", "answers", "question", "questions", "choose", "choosing", "choice", "choices",
    "select", "selecting", "pick", "option", "options", "reply", "respond", "response", "text",
    "only", "exactly", "one", "yes", "no", "number", "numbers", "digits", "short", "phrase",
    "word", "words", "few", "sentence", "sentences", "letter", "letters", "correct", "best",
    "right", "given", "following", "above", "below", "provided", "based", "image", "images",
    "picture", "audio", "clip", "recording", "shown", "show", "listed", "list", "please",
    "output", "write", "provide", "give", "just", "single", "item", "most", "appropriate",
    "suitable", "format", "using", "use", "considering", "according", "carefully", "read",
    "look", "listen", "hear", "heard", "see", "seen", "first", "then", "return",
    "final", "brief", "briefly", "concise", "concisely", "explanation", "without", "any",
    "other", "more", "less", "than", "two", "three", "four", "five", "lines", "line",
    "there", "here", "each",
})
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "onto",
    "as", "is", "are", "was", "were", "be", "been", "being", "and", "or", "nor", "but", "that",
    "this", "these", "those", "it", "its", "your", "you", "yours", "my", "our", "their", "them",
    "which", "what", "who", "how", "not", "do", "does", "did", "if", "whether", "so", "than",
    "then", "can", "could", "should", "would", "will", "shall", "may", "must", "all", "about",
    "after", "before", "because", "between", "like", "per", "via", "up", "out", "over", "under",
    "i", "me", "we", "us", "he", "she", "his", "her", "they", "one's", "also", "very", "s",
})
# The last word of a stem the options complete: "This is an example of", "... draws a".
# (Not "in", "by", "on": they end phrasal verbs, "banked the shot in", "watched it go by".)
_STEM_ENDINGS = frozenset({
    "a", "an", "the", "of", "as", "is", "are", "was", "were", "be", "that", "than", "because",
    "like", "means", "mean", "called", "named", "became", "becomes", "seems", "his", "her",
    "their", "its", "my", "your", "our",
})

_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "its", "his", "her", "their", "each"})


@dataclass(frozen=True)
class Asking:
    """What in an item's text says what to do; `question` alone can say what "yes" means."""

    question: str = ""  # the item's own question, or its task statement
    other: str = ""  # a blank, a stem, statement options: enough for a choice, not for yes/no

    @property
    def asks(self) -> bool:
        return bool(self.question or self.other)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _without_speech(text: str) -> str:
    """The text with quoted utterances and labelled dialogue turns taken out."""
    return _TURN.sub(" ", _QUOTED.sub(" ", text))


def states_only_format(sentence: str) -> bool:
    """True for a sentence that only says how to answer (or holds no words at all)."""
    return all(w in _FORMAT_WORDS or w in _FUNCTION_WORDS for w in _words(sentence))


def _opening_words(clause: str) -> list[str]:
    words = _words(clause)
    while words and words[0] in _OPENERS:
        words = words[1:]
    return words[:2]


def _task_statement(sentence: str) -> bool:
    """An imperative clause ("Sort the following words", "In the sentences below, explain the
    antecedent") or an interrogative one ("Which of the sentences makes more sense") that names
    something beyond the answer format."""
    if states_only_format(sentence):
        return False
    clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
    for index, clause in enumerate(clauses):
        opening, *after = _opening_words(clause) or [""]
        rest = " ".join(clauses[index:])
        imperative = opening in _TASK_VERBS and bool(after) and after[0] in _IMPERATIVE_FOLLOWERS
        if imperative and not states_only_format(rest):
            return True
        if index == 0 and len(_words(clause)) >= 3 and (opening in _INTERROGATIVES or (
                opening in _WH_ADVERBS and after and after[0] in _AUXILIARIES)):
            return True
    return False


def _own_question(text: str) -> str:
    for sentence in _sentences(_without_speech(text)):
        if sentence.rstrip("\"'’”)] ").endswith("?") and not states_only_format(sentence):
            return sentence
        if _task_statement(sentence):
            return sentence
    return ""


def _is_stem(question: str, options: list[str]) -> bool:
    """An unfinished sentence: "… This is an example of", "… is:", or with options to complete
    it a short subject ("… The electron emits"). Without options only "… is:" is a stem."""
    text = question.rstrip()
    words = _words(text)
    if text.endswith(":") and not text.endswith("::"):
        return bool(words) and words[-1] in _STEM_ENDINGS
    if not text or not options or text[-1] in ".!?;)\"'’”]":
        return False
    if words and words[-1] in _STEM_ENDINGS:
        return True
    last_clause = _words(re.split(r"[.!?,;:]\s", text)[-1])
    return 1 < len(last_clause) <= 3 and last_clause[0] in _DETERMINERS


def _statement_options(options: list[str], text: str) -> bool:
    """Options that are sentences about the text: the item asks which of them holds."""
    if len(options) < 2:
        return False
    seen = set(_words(text)) - _FUNCTION_WORDS
    for option in options:
        words = _words(option)
        if len(words) < 3 or option.rstrip()[-1:] not in {".", "!"}:
            return False
        if not set(words) & seen:
            return False
    return True


def what_it_asks(texts: list[str], question: str, options: list[str]) -> Asking:
    """How the item says what to do. `texts` are every text it shows (instruction, context,
    question, media text), `question` its question field, `options` its options."""
    full = "\n".join(t for t in texts if t)
    own = _own_question(full)
    if own:
        return Asking(question=own)
    blank = _BLANK.search(full)
    if blank:
        return Asking(other=f"a blank to fill: {blank.group(0)}")
    if _is_stem(question, options):
        return Asking(other=f"a stem the options complete: …{question.rstrip()[-40:]}")
    if _statement_options(options, full):
        return Asking(other="options that are statements about the text")
    return Asking()
