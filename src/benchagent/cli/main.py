"""The `benchagent` command: every user-facing error is one line, with no traceback."""

from __future__ import annotations

import logging
import os
import sys

import typer

from benchagent.cli import build, models_cmd, pool_cmd, show, tools_cmd
from benchagent.cli.common import err
from benchagent.errors import BenchagentError

app = typer.Typer(help="Build verified evaluation benchmarks from a plain-language request.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command()(build.build)
app.command()(build.plan)
app.command()(build.resume)
app.command()(show.show)
app.command()(models_cmd.models)
app.command()(tools_cmd.tools)
app.add_typer(pool_cmd.app, name="pool")


def run() -> None:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    debug = bool(os.environ.get("BENCHAGENT_DEBUG"))
    try:
        app(standalone_mode=False)
    except BenchagentError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted: `benchagent resume RUN_DIR` continues where it stopped")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        err.print(f"[red]error:[/] unexpected {type(exc).__name__}: {exc} "
                  f"(set BENCHAGENT_DEBUG=1 for the traceback)", soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
