"""Where each stage's files live in the run directory (relative to it)."""

SUBTASKS = "plan/subtasks.json"
GROUNDINGS = "plan/groundings.json"
ALLOCATION = "plan/allocation.json"
REJECTED_PLANS = "plan/rejected_plans.json"
DESIGN_LOG = "plan/design_log.json"
PLAN_MD = "plan/plan.md"
ACCEPTED = "samples/accepted.jsonl"
REJECTED = "samples/rejected.jsonl"
INSTRUCTIONS = "samples/instructions.json"
BENCHMARK = "benchmark/benchmark.jsonl"
CARD = "benchmark/card.md"
TRACE = "trace.jsonl"
ESTIMATE = "plan/estimate.json"  # expected model calls, tokens and cost per role
REPORT_HTML = "report/report.html"
REPORT_SUMMARY = "report/summary.json"
JUDGE_SUMMARY = "judge/summary.json"  # written by `benchagent judge`: read when present
