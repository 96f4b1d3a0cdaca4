"""The `benchagent` command: every user-facing error is one line, with no traceback."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import typer
from rich.markup import escape

from benchagent.cli import (
    build,
    eval,
    export_cmd,
    judge,
    models_cmd,
    pool_cmd,
    report_cmd,
    review,
    show,
    tools_cmd,
)
from benchagent.cli.common import err
from benchagent.errors import BenchagentError
from benchagent.models import BudgetReached

try:  # recent Typer carries its own copy of click, with its own exception classes
    from typer._click.exceptions import ClickException
except ImportError:
    from click import ClickException  # type: ignore[assignment]

app = typer.Typer(help="Build verified evaluation benchmarks from a plain-language request.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command()(build.build)
app.command()(build.plan)
app.command()(build.resume)
app.command()(show.show)
app.command(name="eval")(eval.eval_cmd)
app.command()(review.review)
app.command(name="judge")(judge.judge_cmd)
app.command()(report_cmd.report)
app.command()(export_cmd.export)
app.command()(models_cmd.models)
app.command()(tools_cmd.tools)
app.add_typer(pool_cmd.app, name="pool")


# Typer turns a KeyboardInterrupt inside a command into this exit code.
INTERRUPTED = 130
# A build or eval that stopped cleanly at its --max-calls / --max-cost cap.
BUDGET_REACHED = 4
# Loggers whose warnings the user sees while a command runs (a model endpoint not answering).
SHOWN_LOGGERS = ("benchagent.models",)


class _WarningLine(logging.Handler):
    """A warning as one yellow line on stderr, printed above the progress display."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]warning: {escape(record.getMessage())}[/]", soft_wrap=True)


def _show_warnings() -> None:
    for name in SHOWN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, _WarningLine) for h in logger.handlers):
            logger.addHandler(_WarningLine(logging.WARNING))
            logger.setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: the process's arguments) and return its exit code;
    every error is one line on stderr (BENCHAGENT_DEBUG=1 raises it instead)."""
    debug = bool(os.environ.get("BENCHAGENT_DEBUG"))
    _show_warnings()
    try:
        code = app(args=argv, prog_name="benchagent", standalone_mode=False)
    except BudgetReached as exc:
        err.print(escape(str(exc)), soft_wrap=True)
        return BUDGET_REACHED
    except BenchagentError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        code = INTERRUPTED
    except ClickException as exc:
        exc.show()  # a usage error with its usage line, or the help when no command is given
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] unexpected {type(exc).__name__}: {escape(str(exc))} "
                  f"(set BENCHAGENT_DEBUG=1 for the traceback)", soft_wrap=True)
        return 1
    if code == INTERRUPTED:
        err.print("interrupted: `benchagent resume RUN_DIR` continues where it stopped")
    return code if isinstance(code, int) else 0


def run() -> None:
    """The `benchagent` console script."""
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the shown warnings have their own line
        handler.setLevel(logging.ERROR)
    sys.exit(main())


if __name__ == "__main__":
    run()
