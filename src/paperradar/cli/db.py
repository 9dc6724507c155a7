"""`paperradar db copy SRC DST`: move a library between backends (SQLite file, postgresql://)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InvalidInput
from ..library_copy import copy_between
from ..storage import without_password
from . import JsonFlag, app, out, print_json, progress_bar

db_app = typer.Typer(help="Move a library between a SQLite file and PostgreSQL.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("copy")
def copy_cmd(
    src: Annotated[str, typer.Argument(help="The library to copy: a file, or postgresql://...")],
    dst: Annotated[str, typer.Argument(help="Where to: a new file, or an empty PostgreSQL database.")],
    as_json: JsonFlag = False,
) -> None:
    """Copy everything (papers, records, corrections, vectors, users, profiles, feedback, topics,
    digests, settings). Run again after an interruption to finish; verified by row counts and
    the checksum of the papers' exported JSONL."""
    with progress_bar("copying") as progress:
        report = copy_between(src, dst, progress=progress)
    if as_json:
        print_json(
            {"ok": report.ok, "copied": report.copied, "counts": report.counts, "checksum": report.checksum}
        )
    else:
        rows = sum(report.copied.values())
        out.print(
            f"copied {rows:,} rows into {without_password(dst)}; {len(report.counts)} tables with equal counts"
        )
        out.print(f"papers checksum {report.checksum[0][:16]} (source) {report.checksum[1][:16]} (copy)")
    if not report.ok:
        bad = [t for t, (a, b) in report.counts.items() if a != b]
        raise InvalidInput(
            f"the copy differs from the source (tables {', '.join(bad) or 'none'}; papers checksum)"
        )
