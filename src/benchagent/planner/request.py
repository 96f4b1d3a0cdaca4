"""What a request asks for besides its content: the input modalities, and whether its media
are to be made from text."""

from __future__ import annotations

import re

from benchagent.records import Modality, Query

CUES = {Modality.image: re.compile(r"\b(image|images|picture|photo|diagram|chart|visual|"
                                   r"scan|scans|x-ray|rendered)\b", re.IGNORECASE),
        Modality.audio: re.compile(r"\b(audio|spoken|speech|hears?|heard|read aloud|voice|"
                                   r"listen\w*|sound|clip)\b", re.IGNORECASE),
        Modality.video: re.compile(r"\b(video|videos|footage|movie clips?)\b", re.IGNORECASE)}
# Words saying the media are to be made from text ("rendered as an image", "read aloud").
PRODUCED = re.compile(r"\b(render\w*|read aloud|spoken|speak(s|ing)?|hears?|synthesi[sz]\w*|"
                      r"text (shown|in) (an )?images?)\b", re.IGNORECASE)


# Words about a benchmark's form (how items are shown and answered), not about what they test.
_FORM_TEXT = """
a about all alone also an and answer answered answering answers any are as ask asked asks at
background be benchmark both build by can choice combine combined combines context contexts
degrade degraded degrading does each either evaluate every from given has have how if in
information input inputs into is it item items its modal model models multimodal multiple must
needs noise noisy of omni on one or other over part parts question questions read reads reason
reasoning render rendered require requires requiring should shown some sometimes test tests
text texts that the their them then these they this to understand understanding using whether
which while will with within
"""
_FORM_WORDS = frozenset(_FORM_TEXT.split())


def names_content(query: Query) -> bool:
    """The request says what its items are about (a skill, a domain), not only how they are
    shown: "read text shown in images" names none, "spoken commonsense questions" does."""
    return names_content_text(content_text(query))


def names_content_text(text: str) -> bool:
    """Whether the words name a skill or a domain, not only the items' form ("the model a
    question", "sometimes over background noise": no)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return any(w not in _FORM_WORDS and len(w) > 2 for w in words)


_LEAD_WORDS = frozenset((
    "a", "an", "and", "answer", "answers", "be", "can", "each", "is", "must", "model", "models",
    "or", "should", "the", "to", "whether", "will"))


def without_form_lead(clause: str) -> str:
    """The clause from its first word about content on ("the model must identify causes" ->
    "identify causes"); the clause itself when every word is about form."""
    words = clause.split()
    for i, word in enumerate(words):
        if word.lower().strip(",.:;") not in _LEAD_WORDS:
            return " ".join(words[i:])
    return clause


def query_modalities(query: Query) -> list[Modality]:
    """The input modalities the request asks for, read from its words."""
    return [Modality.text] + [m for m, cue in CUES.items() if cue.search(query.description)]


_MADE = {Modality.image: re.compile(r"\b(render\w*|drawn|text (shown|in) (an )?images?)\b",
                                   re.IGNORECASE),
         Modality.audio: re.compile(r"\b(read aloud|spoken|speak(s|ing)?|hears?|synthesi[sz]\w*)\b",
                                   re.IGNORECASE)}


def produced_modalities(query: Query) -> set[Modality]:
    """The media the request wants made from text (a question rendered, or read aloud)."""
    wanted = query_modalities(query)
    return {m for m, cue in _MADE.items() if m in wanted and cue.search(query.description)}


def media_from_text(query: Query) -> bool:
    """The request wants its images or audio made from text (rendered, spoken)."""
    return len(query_modalities(query)) > 1 and bool(PRODUCED.search(query.description))


def content_text(query: Query) -> str:
    """The request's words about what to test: without the words about media made from text
    (a spoken commonsense request is about commonsense)."""
    if not media_from_text(query):
        return query.description
    text = query.description
    for cue in [PRODUCED, *CUES.values()]:
        text = cue.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()
