"""The storage seam holds: outside src/paperradar/storage/ no code names `SQLiteLibrary`, reaches
for a `.conn` attribute, imports a database driver, or carries SQL text. Read with `ast` (so a
comment or docstring that mentions SQL is fine; a string literal or f-string that is SQL is not).

`PAPERRADAR_SEAM_ROOT` points the check at another tree (e.g. an old commit's checkout from
`git worktree add`), which is how it was shown to fail on the code before the seam was closed.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = (
    Path(os.environ.get("PAPERRADAR_SEAM_ROOT") or Path(__file__).resolve().parents[1]) / "src" / "paperradar"
)
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool", "apsw"}
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:TEMP\s+|TEMPORARY\s+|VIRTUAL\s+|UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|\bPRAGMA\s+\w+"
)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (allowed to mention SQL)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _text(node: ast.AST) -> str | None:
    """The literal text of a string constant or f-string (its constant parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def violations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    docs = _docstrings(tree)
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    where = lambda n: f"{path.relative_to(ROOT.parent)}:{n.lineno}"  # noqa: E731
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "conn":
            yield f"{where(node)}: `.conn` (use a storage method)"
        elif isinstance(node, ast.Attribute | ast.Name) and "SQLiteLibrary" in (
            getattr(node, "attr", None),
            getattr(node, "id", None),
        ):
            yield f"{where(node)}: SQLiteLibrary (type against storage.base.Library)"
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [a.name for a in node.names] + (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            if "SQLiteLibrary" in names:
                yield f"{where(node)}: imports SQLiteLibrary (type against storage.base.Library)"
            if any(n.split(".")[0] in DRIVERS for n in names):
                yield f"{where(node)}: imports a database driver (only storage/ talks to databases)"
        elif id(node) not in docs and id(node) not in inner and (text := _text(node)) and SQL.search(text):
            yield f"{where(node)}: SQL text {text.strip()[:60]!r} (move it into storage/)"


def test_no_sql_sqlitelibrary_or_conn_outside_storage():
    files = [p for p in sorted(ROOT.rglob("*.py")) if "storage" not in p.relative_to(ROOT).parts]
    assert len(files) > 50, f"found only {len(files)} modules under {ROOT}"
    found = [v for p in files for v in violations(p)]
    assert not found, f"{len(found)} places break the storage seam:\n" + "\n".join(found)


def test_the_check_sees_each_kind_of_breach(tmp_path):
    """The checker itself: each kind of breach in a module is named with its line."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""SELECT x FROM docstring is fine."""\n'
        "import sqlite3\n"
        "from .storage.sqlite import SQLiteLibrary\n"
        "def f(lib, t):\n"
        "    lib.conn.execute(f'SELECT pk FROM {t}')\n"
        "    return 'UPDATE papers SET x = 1'\n"
        "GOOD = 'select the papers from your list'\n"
    )
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        found = list(violations(bad))
    finally:
        ROOT = old
    lines = sorted(int(v.split(":")[1]) for v in found)
    assert lines == [2, 3, 5, 5, 6], found


# ---------------------------------------------------------------- the reads moved into storage/, on both backends


def test_the_reads_moved_into_storage_agree_on_both_backends(any_lib):
    """What ranking, recommendation and enrichment read through storage/queries.py: the same
    answers from SQLite and PostgreSQL (these were SQL text in rank/, recommend.py, enrich.py)."""
    from test_storage_contract import import_examples

    import_examples(any_lib)
    pks = sorted(any_lib.all_pks())
    stamp = any_lib.papers_stamp()
    assert (stamp.count, stamp.max_pk) == (len(pks), max(pks)) and stamp.max_updated_at
    assert set(any_lib.paper_ids()) == set(pks) and all(any_lib.paper_ids().values())
    assert any_lib.existing_pks([pks[0], 10**9]) == {pks[0]}  # a merged-away pk is not a paper
    assert any_lib.papers_updated_after(stamp.max_updated_at) == set()
    assert any_lib.papers_updated_after("") == set(pks)
    names = any_lib.author_names(pks)
    assert set(names) == set(pks) and any(names.values())
    assert names[pks[0]] == [a.name for a in _paper(any_lib, pks[0]).authors]
    assert set(any_lib.paper_dates(pks)) == set(pks)
    sample = any_lib.sample_pks(3)
    assert sample == any_lib.sample_pks(3) and len(sample) == 3 and set(sample) <= set(pks)
    chunks = list(any_lib.pk_id_chunks(7))  # a big library's working set reads ids in pk pages
    assert [pk for chunk in chunks for pk, _ in chunk] == pks and all(len(c) <= 7 for c in chunks)
    assert dict(pair for chunk in chunks for pair in chunk) == any_lib.paper_ids()
    dates = any_lib.paper_dates(pks)
    newest = set(pks[-3:]) | set(sorted((d, pk) for pk, d in dates.items() if d)[-3:][i][1] for i in range(3))
    assert any_lib.newest_pks(3) == newest  # by row id and by date; undated papers are not newest
    assert any_lib.profile_paper_pks() == set()


def test_vectors_for_ranking_and_ann_rescoring_on_both_backends(any_lib):
    """The vectors ranking falls back on (any model's) and those an ANN index rescores with, which
    it reads through a connection of its own: on PostgreSQL too (it opened a SQLite file before)."""
    import numpy as np

    from paperradar.storage import open_vector_reader
    from test_storage_contract import import_examples

    import_examples(any_lib)
    pks = sorted(any_lib.all_pks())[:3]
    assert any_lib.main_vector_model() is None
    with any_lib.transaction():
        any_lib.put_embeddings("wide", [(pk, "h", np.full(8, pk, np.float32).tobytes()) for pk in pks])
        any_lib.put_embeddings("narrow", [(pks[0], "h", np.ones(4, np.float32).tobytes())])
    model = any_lib.main_vector_model()
    assert (model.model_id, model.dim) == ("wide", 8)
    got = sorted((pk, m, len(b)) for pk, m, b in any_lib.any_vectors_of(pks))
    assert got == sorted([(pk, "wide", 32) for pk in pks] + [(pks[0], "narrow", 16)])
    reader = open_vector_reader(any_lib.path)
    try:
        rows = dict(reader.vectors_of("wide", [pks[1], pks[2], 10**9]))
    finally:
        reader.close()
    assert set(rows) == {pks[1], pks[2]}
    assert np.frombuffer(rows[pks[1]], np.float32).tolist() == [float(pks[1])] * 8


def _paper(lib, pk):
    from paperradar.papers import load_paper

    return load_paper(lib, pk, with_sources=False)
