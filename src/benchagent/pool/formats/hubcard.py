"""A Hugging Face dataset card: README.md with YAML front matter, then prose.

The front matter names the dataset's configs (`configs: [{config_name, data_files}]`) and
features (`dataset_info`); `pretty_name`, `task_categories`, `license` and `language` with the
first paragraphs of the prose become the pool card's description, tasks, licence and language,
so that relevance search has the dataset's own words to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchagent.pool.fields import as_text, as_text_list

README = "README.md"
MAX_CARD_BYTES = 1024 * 1024
MAX_DESCRIPTION_CHARS = 1200
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HUB_KEYS = re.compile(r"^(configs|dataset_info):", re.MULTILINE)
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|<[^>]+>|[*_`]{1,3}")


@dataclass
class HubCard:
    meta: dict[str, Any] = field(default_factory=dict)
    prose: str = ""

    @property
    def configs(self) -> list[str]:
        """Config names the card declares, in its order ([] when it declares none)."""
        entries = self.meta.get("configs")
        names = [as_text(c.get("config_name")) or "default" for c in entries
                 if isinstance(c, dict)] if isinstance(entries, list) else []
        return list(dict.fromkeys(names))


def front_matter(text: str) -> str | None:
    match = _FRONT.match(text)
    return match.group(1) if match else None


def is_hub_card(readme: Path) -> bool:
    """A README.md whose front matter declares configs or dataset_info (cheap: no YAML)."""
    try:
        if not readme.is_file() or readme.stat().st_size > MAX_CARD_BYTES:
            return False
        head = front_matter(readme.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False
    return head is not None and _HUB_KEYS.search(head) is not None


def parse_card(text: str) -> HubCard:
    """The card's metadata and prose; metadata that is not YAML is taken as none."""
    import yaml  # installed with `datasets`, which is what reads these cards

    match = _FRONT.match(text)
    head = match.group(1) if match else None
    prose = text[match.end():] if match else text
    try:
        meta = yaml.safe_load(head) if head else {}
    except yaml.YAMLError:
        meta = {}
    return HubCard(meta=meta if isinstance(meta, dict) else {}, prose=prose)


def read_card(readme: Path | None) -> HubCard:
    if readme is None or not readme.is_file() or readme.stat().st_size > MAX_CARD_BYTES:
        return HubCard()
    return parse_card(readme.read_text(encoding="utf-8", errors="replace"))


def _paragraphs(prose: str) -> list[str]:
    """Prose paragraphs: headings, tables, code, HTML comments and link markup left out."""
    prose = re.sub(r"<!--.*?-->|```.*?```", "", prose, flags=re.DOTALL)
    out: list[str] = []
    for block in re.split(r"\n\s*\n", prose):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith(("#", "|", ">", "- [", "["))]
        text = _MARKUP.sub(lambda m: m.group(1) or "", " ".join(lines)).strip()
        if len(text) >= 20:
            out.append(text)
    return out


def card_info(card: HubCard) -> tuple[dict[str, str], list[str]]:
    """(description / license / language, tasks) of a card; empty values left out."""
    meta = card.meta
    title = as_text(meta.get("pretty_name"))
    description = ""
    for para in _paragraphs(card.prose):
        if len(description) + len(para) > MAX_DESCRIPTION_CHARS:
            break
        description = f"{description} {para}".strip()
    if title and title.lower() not in description[:len(title) + 20].lower():
        description = f"{title}: {description}" if description else title
    languages = as_text_list(meta.get("language"))
    info = {"description": description[:MAX_DESCRIPTION_CHARS],
            "license": ", ".join(as_text_list(meta.get("license"))),
            "language": languages[0] if len(languages) == 1 else ""}
    tasks = [t.replace("-", " ") for key in ("task_categories", "task_ids")
             for t in as_text_list(meta.get(key))]
    return {k: v for k, v in info.items() if v}, list(dict.fromkeys(tasks))
