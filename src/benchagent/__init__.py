"""benchagent: builds verified evaluation benchmarks from a plain-language request."""

from benchagent.api import (
    BuildResult,
    EvalResult,
    JudgeResult,
    build,
    build_from_plan,
    estimate_vs_spent,
    evaluate,
    judge,
    plan,
    resume,
)
from benchagent.config import Settings, load_settings
from benchagent.errors import BenchagentError
from benchagent.models import BudgetReached, ModelClient, ModelConfig, RoleModels, make_provider
from benchagent.records import (
    Allocation,
    AnswerType,
    BenchmarkSample,
    DatasetCard,
    Grounding,
    Modality,
    Query,
    SourceSample,
    Subtask,
)

__version__ = "0.1.0"

__all__ = ["Allocation", "AnswerType", "BenchagentError", "BenchmarkSample", "BudgetReached",
           "BuildResult", "DatasetCard", "EvalResult", "Grounding", "JudgeResult", "Modality",
           "ModelClient", "ModelConfig", "Query", "RoleModels", "Settings", "SourceSample",
           "Subtask", "__version__", "build", "build_from_plan", "estimate_vs_spent", "evaluate",
           "judge", "load_settings", "make_provider", "plan", "resume"]
