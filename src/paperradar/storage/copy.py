"""Copy a whole library between any two backends (`paperradar db copy SRC DST`).

Every table both libraries have is copied in the order of their foreign keys, in batches, each
batch one transaction of `INSERT OR IGNORE`: an interrupted copy run again carries on where it
stopped (a table already complete is skipped; one half done restarts after its last key). The
embedding change log is not copied (the destination logs the vectors as they arrive). The copy is
verified by row counts per table and by the SHA-256 of the papers' exported JSONL on both sides
(each line with its keys sorted, as PostgreSQL's jsonb keeps its own key order). Does I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..progress import Progress
from .base import Library, Table

BATCH = 2000
SKIPPED = frozenset({"embedding_log"})  # derived: the destination's own triggers fill it


@dataclass
class CopyReport:
    copied: dict[str, int] = field(default_factory=dict)  # rows inserted this run, per table
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # (source, destination)
    checksum: tuple[str, str] = ("", "")  # SHA-256 of the exported papers, (source, destination)

    @property
    def ok(self) -> bool:
        return self.checksum[0] == self.checksum[1] and all(a == b for a, b in self.counts.values())


def copy_library(src: Library, dst: Library, progress: Progress | None = None) -> CopyReport:
    """Copy `src` into `dst` (empty, or a copy of `src` that was interrupted) and verify it."""
    tables = shared_tables(src.tables(), dst.tables())
    _check_destination(src, dst, tables)
    report = CopyReport()
    for table in tables:
        report.copied[table.name] = _copy_table(src, dst, table, progress)
    dst.after_copy()
    report.counts = {t.name: (_count(src, t.name), _count(dst, t.name)) for t in tables}
    report.checksum = (papers_checksum(src), papers_checksum(dst))
    return report


def shared_tables(a: dict[str, Table], b: dict[str, Table]) -> list[Table]:
    """Tables both sides have (with the columns both have), parents before children (pure)."""
    common = {
        n: Table(n, tuple(c for c in t.columns if c in b[n].columns), t.key, t.parents)
        for n, t in a.items()
        if n in b and n not in SKIPPED
    }
    order: list[Table] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in done or name not in common or name in path:
            return
        for parent in common[name].parents:
            visit(parent, (*path, name))
        done.add(name)
        order.append(common[name])

    for name in sorted(common):
        visit(name)
    return order


def _check_destination(src: Library, dst: Library, tables: list[Table]) -> None:
    """`dst` must be empty or an interrupted copy of `src`: no table with more rows, and its first
    and last papers the same (id and time added) as the source's papers of those keys."""
    q = "SELECT pk, id, created_at FROM papers WHERE pk IN (SELECT min(pk) FROM papers UNION SELECT max(pk) FROM papers)"
    ends = [tuple(r) for r in dst.conn.execute(q).fetchall()]
    same = all(
        tuple(r) == row
        for row in ends
        for r in src.conn.execute("SELECT pk, id, created_at FROM papers WHERE pk = ?", (row[0],)).fetchall()
        or [()]
    )
    if not same or any(_count(dst, t.name) > _count(src, t.name) for t in tables):
        raise InvalidInput(
            f"{_shown(dst.path)} is not empty and not an unfinished copy of {_shown(src.path)}"
        )


def _shown(location: str) -> str:
    from . import without_password

    return without_password(location)


def _count(lib: Library, table: str) -> int:
    return int(lib.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _copy_table(src: Library, dst: Library, t: Table, progress: Progress | None) -> int:
    if _count(dst, t.name) == _count(src, t.name):
        return 0
    cols = ", ".join(t.columns)
    insert = f"INSERT OR IGNORE INTO {t.name} ({cols}) VALUES ({', '.join('?' * len(t.columns))})"
    copied = 0
    for rows in _batches(src, dst, t):
        with dst.transaction():
            copied += max(0, dst.conn.executemany(insert, rows).rowcount)
        if progress:
            progress(copied, None, t.name)
    return copied


def _batches(src: Library, dst: Library, t: Table) -> Iterator[list[tuple[Any, ...]]]:
    """The source's rows in key order, from after the destination's last key (one-column keys)."""
    cols = ", ".join(t.columns)
    order = ", ".join(t.key) if t.key else cols
    where, params = "", []
    if len(t.key) == 1:
        last = dst.conn.execute(f"SELECT max({t.key[0]}) FROM {t.name}").fetchone()[0]
        if last is not None:
            where, params = f" WHERE {t.key[0]} > ?", [last]
    offset = 0
    while True:
        q = f"SELECT {cols} FROM {t.name}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = [tuple(r) for r in src.conn.execute(q, [*params, BATCH, offset]).fetchall()]
        if not rows:
            return
        yield rows
        offset += len(rows)


def papers_checksum(lib: Library) -> str:
    """SHA-256 of the whole library exported as JSONL (pk order; each line's keys sorted)."""
    from ..papers import export_papers, load_paper

    digest = hashlib.sha256()
    pks = sorted(lib.list_pks(None, order="added"))
    for i in range(0, len(pks), 1000):
        papers = [load_paper(lib, pk, with_sources=False) for pk in pks[i : i + 1000]]
        for line in export_papers(papers, "jsonl").splitlines():
            digest.update(json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()
