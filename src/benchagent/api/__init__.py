"""The library API, equal to the CLI: `build`, `plan`, `build_from_plan` and `resume` return a
typed `BuildResult` (building.py); `evaluate`, `judge`, `review`, `report` and `export` work on
a built run (quality.py). The CLI only parses arguments and prints."""

from benchagent.api.building import (
    MAX_QUERY_FILE_BYTES,
    RUNS_DIR,
    BuildResult,
    Estimate,
    Overrides,
    Warn,
    build,
    build_from_plan,
    check_ablations,
    default_run_dir,
    estimate_vs_spent,
    load_query,
    open_models,
    open_pool,
    plan,
    resume,
)
from benchagent.api.quality import (
    EvalResult,
    JudgeResult,
    evaluate,
    export,
    judge,
    report,
    review,
    review_summary,
)

__all__ = ["MAX_QUERY_FILE_BYTES", "RUNS_DIR", "BuildResult", "Estimate", "EvalResult",
           "JudgeResult", "Overrides", "Warn", "build", "build_from_plan", "check_ablations",
           "default_run_dir", "estimate_vs_spent", "evaluate", "export", "judge", "load_query",
           "open_models", "open_pool", "plan", "report", "resume", "review", "review_summary"]
