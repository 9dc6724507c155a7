"""The `paperradar` command line: parses arguments, calls the library, renders the result.

stdout carries data (`--json` for machines); errors and progress go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .. import config
from ..errors import RadarError
from ..models import Paper
from ..progress import Progress
from ..storage import Library, open_library

app = typer.Typer(
    help="paperradar: one clean library of papers from every source.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class State:
    """The global options, and the settings read once (on first use, so that `--help` works
    whatever the environment holds) with `--db` over PAPERRADAR_DB over paperradar.toml."""

    db: str | None = None
    debug: bool = False
    _settings: config.Settings | None = None

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            self._settings = config.load_settings(db=self.db)
        return self._settings


state = State()


def settings() -> config.Settings:
    """The settings of this run (config.py): commands pass them, or the few values, to the library."""
    return state.settings


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="PAPERRADAR_DB", help="Library file (default: in the data folder)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    state.db = db
    state.debug = debug
    state._settings = None  # read again for this invocation (tests run many in one process)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr)


def library_location() -> str:
    """The library this run opens. A file named by `--db` (or PAPERRADAR_DB, paperradar.toml) goes
    in an existing folder: a mistyped path is an error, not a new empty library in new folders.
    The default one, in the data folder, is made on first use."""
    path = state.settings.library_path
    if state.settings.db:
        from ..papers import check_library_folder

        check_library_folder(path)
    return path


@contextmanager
def library() -> Iterator[Library]:
    lib = open_library(library_location())
    try:
        yield lib
    finally:
        lib.close()


@contextmanager
def progress_bar(label: str) -> Iterator[Progress | None]:
    """The CLI's one adapter of the library's Progress (progress.py): a rich bar on stderr with
    the stage's message (else `label`), done of total, or a spinner while the total is unknown.
    None when stderr is not a terminal, so pipes and logs get no bar."""
    if not err.is_terminal:
        yield None
        return
    from rich import progress as rp

    columns = (
        rp.SpinnerColumn(),
        rp.TextColumn("{task.description}"),
        rp.BarColumn(),
        rp.MofNCompleteColumn(),
    )
    with rp.Progress(*columns, rp.TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(escape(label), total=None)

        def update(done: int, total: int | None = None, message: str = "") -> None:
            bar.update(task, completed=done, total=total, description=escape(message or label))

        yield update


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class LazyModule:
    """A module imported on first use: keeps `paperradar --help` and light commands from loading
    scikit-learn and scipy (~110 MB, ~3 s) that only some commands need."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


def display_title(paper: Paper) -> str:
    """Rich markup for a paper's title; an untitled paper's label (display.title_of) dimmed."""
    from ..display import title_of

    label = escape(title_of(paper))
    return label if paper.title else f"[dim]{label}[/dim]"


# the modules that add commands to `app` when imported; each area adds its own line
COMMAND_MODULES = [
    "db",
    "syncing",  # sync, enrich: before digest and watch, as when one module held them
    "digests",
    "watching",
    "fetching",
    "imports",
    "index_cmd",
    "models",
    "papers",
    "profiles",
    "search",
    "serve",
    "topics",
    "users",
]


def register_commands() -> None:
    """Import every command module (importing one registers its commands on `app`)."""
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def main() -> None:
    """Entry point: one handler turns library errors into `Error: ...` and exit code 1."""
    register_commands()
    try:
        app()
    except RadarError as e:
        if state.debug:
            raise
        err.print(f"[red]Error:[/red] {escape(str(e))}", highlight=False)
        sys.exit(e.exit_code)
    except OSError as e:  # a file or folder the user named could not be read or written
        if state.debug:
            raise
        where = f": {e.filename}" if e.filename else ""
        err.print(f"[red]Error:[/red] {escape((e.strerror or str(e)) + where)}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("Interrupted; whole batches already imported are kept.")
        sys.exit(130)
