"""The judge's summary (judge/summary.json) as tables, read without assuming its shape: every
mapping of names to plain values (a dimension's mean score, the judge's name) is one table, with
the path that leads to it as its title; long lists (per item) are counted, not shown."""

from __future__ import annotations

from typing import Any

from benchagent.report.records import JudgeRow, JudgeTable

MAX_DEPTH = 3
MAX_TABLES = 12
MAX_ROWS = 40
MAX_LIST = 12  # a longer list is one row saying how many entries it has
MAX_TEXT = 200
LABEL_KEYS = ("judge", "name", "model", "subtask", "dimension", "scope")


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _label(entry: Any, index: int) -> str:
    if isinstance(entry, dict):
        for key in LABEL_KEYS:
            if _plain(entry.get(key)) and entry.get(key) not in (None, ""):
                return _fmt(entry[key])
    return str(index + 1)


def _walk(value: Any, title: str, depth: int, tables: list[JudgeTable]) -> None:
    if len(tables) >= MAX_TABLES:
        return
    if isinstance(value, dict):
        rows = [JudgeRow(name=_fmt(k), value=_fmt(v)) for k, v in value.items() if _plain(v)]
        rows += [JudgeRow(name=_fmt(k), value=f"{len(v)} entries")
                 for k, v in value.items() if isinstance(v, list) and len(v) > MAX_LIST]
        if rows:
            tables.append(JudgeTable(title=title, rows=rows[:MAX_ROWS]))
        if depth < MAX_DEPTH:
            for key, child in value.items():
                if isinstance(child, dict) or (isinstance(child, list)
                                               and len(child) <= MAX_LIST):
                    _walk(child, f"{title} › {key}", depth + 1, tables)
    elif isinstance(value, list):
        plain = [JudgeRow(name=str(i + 1), value=_fmt(v)) for i, v in enumerate(value)
                 if _plain(v)]
        if plain:
            tables.append(JudgeTable(title=title, rows=plain[:MAX_ROWS]))
        if depth < MAX_DEPTH:
            for i, entry in enumerate(value[:MAX_LIST]):
                if isinstance(entry, dict | list):
                    _walk(entry, f"{title} › {_label(entry, i)}", depth + 1, tables)


def judge_tables(data: Any, title: str = "judge") -> list[JudgeTable]:
    """The tables of a summary of any shape (a judge's, a review's, the cost estimate beside
    what was spent), none for a value with nothing plain."""
    tables: list[JudgeTable] = []
    if _plain(data):
        return [JudgeTable(title=title, rows=[JudgeRow(name="value", value=_fmt(data))])]
    _walk(data, title, 0, tables)
    return tables
