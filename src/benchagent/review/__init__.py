"""Human review of a run's benchmark: a local web page to accept, reject (with a reason) or
edit each item, decisions synced as they are made (review/<reviewer>.jsonl), the acceptance
rates and agreement in review/summary.json, and the reviewed benchmark beside the original."""

from __future__ import annotations

from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchagent.review.decisions import (
    REVIEW_DIR,
    Decision,
    DecisionLog,
    ItemEdit,
    apply_edit,
    check_reviewer,
    read_decisions,
)
from benchagent.review.items import ReviewRun, load_review_run
from benchagent.review.server import ReviewApp, is_loopback, make_server, review_url
from benchagent.review.summary import (
    REVIEWED,
    SUMMARY,
    cohen_kappa,
    fleiss_kappa,
    summarize,
    write_review,
)

__all__ = ["REVIEWED", "REVIEW_DIR", "SUMMARY", "Decision", "DecisionLog", "ItemEdit",
           "ReviewRun", "ReviewSession", "apply_edit", "check_reviewer", "cohen_kappa",
           "fleiss_kappa", "read_decisions", "review_summary", "start_review", "summarize"]


@dataclass
class ReviewSession:
    """A review server bound and ready: `serve()` answers until interrupted, then `close()`."""

    app: ReviewApp
    server: ThreadingHTTPServer
    url: str

    @property
    def decided(self) -> int:
        return len([i for i in self.app.log.latest if i in self.app.by_id])

    @property
    def items(self) -> int:
        return len(self.app.run.samples)

    @property
    def loopback_only(self) -> bool:
        return not self.app.token_everywhere

    def serve(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.server_close()
        self.app.log.close()


def start_review(run_dir: Path, reviewer: str, host: str = "127.0.0.1",
                 port: int = 0) -> ReviewSession:
    """Bind the review server for `reviewer` on `run_dir` (port 0: any free port)."""
    run = load_review_run(run_dir)
    log = DecisionLog(run_dir, reviewer)
    try:
        app = ReviewApp(run, log, loopback_only=is_loopback(host))
        server = make_server(app, host, port)
    except BaseException:
        log.close()
        raise
    return ReviewSession(app, server, review_url(app, server, host))


def review_summary(run_dir: Path, *, write: bool = True) -> dict[str, Any] | None:
    """The review summary of a run (None when nobody reviewed it); with `write`, also
    rewrites review/summary.json and the reviewed benchmark from the decisions."""
    decisions = read_decisions(run_dir)
    if not any(decisions.values()):
        return None
    run = load_review_run(run_dir)
    return write_review(run_dir, run.samples, decisions) if write else summarize(
        run.samples, decisions)



