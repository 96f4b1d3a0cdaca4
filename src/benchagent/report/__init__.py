"""`benchagent report RUN`: one self-contained report/report.html (plots, the items with their
images and audio, opens offline) and report/summary.json with everything it shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchagent.errors import UserError
from benchagent.report.gallery import gallery_cards
from benchagent.report.html import render_page
from benchagent.report.records import ReportSummary
from benchagent.report.summary import gather, read_run
from benchagent.stages.paths import REPORT_HTML, REPORT_SUMMARY
from benchagent.store import Manifest, atomic_write_text

__all__ = ["REPORT_HTML", "REPORT_SUMMARY", "Report", "ReportSummary", "ReportUnavailable",
           "write_report"]


class ReportUnavailable(UserError):
    """The report's plotting library is not installed."""


@dataclass(frozen=True)
class Report:
    html: Path
    summary_path: Path
    summary: ReportSummary


def _plots(summary: ReportSummary) -> dict[str, str | None]:
    try:
        from benchagent.report import plots
    except ImportError as exc:
        raise ReportUnavailable(f"the report needs matplotlib ({exc}): "
                                "pip install 'benchagent[report]'") from exc
    ev = summary.eval
    return {"distributions": plots.distribution_plot(summary.distributions),
            "rejections": plots.rejection_plot(summary.rejections),
            "scores": plots.scores_plot(ev) if ev else None,
            "ladder": plots.ladder_plot(ev) if ev else None,
            "item_analysis": plots.item_plot(ev) if ev else None}


def write_report(root: Path, manifest: Manifest) -> Report:
    """Write RUN/report/report.html and RUN/report/summary.json from the run's files."""
    run = read_run(root, manifest)
    cards = gallery_cards(root, run.samples, [st.name for st in run.subtasks])
    summary = gather(run, [c.id for c in cards])
    page = render_page(summary, cards, _plots(summary), run.dataset_names(),
                       manifest.settings.seed)
    atomic_write_text(root / REPORT_SUMMARY, summary.model_dump_json(indent=2) + "\n")
    atomic_write_text(root / REPORT_HTML, page)
    return Report(root / REPORT_HTML, root / REPORT_SUMMARY, summary)
