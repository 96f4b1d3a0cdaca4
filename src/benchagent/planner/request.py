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
PRODUCED = re.compile(r"\b(render\w*|read aloud|spoken|speak\w*|hears?|synthesi[sz]\w*|"
                      r"text (shown|in) (an )?images?)\b", re.IGNORECASE)


def query_modalities(query: Query) -> list[Modality]:
    """The input modalities the request asks for, read from its words."""
    return [Modality.text] + [m for m, cue in CUES.items() if cue.search(query.description)]


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
