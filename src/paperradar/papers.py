"""Reading, exporting and correcting papers in the library: the service layer the CLI and web share.

`paper_json` is the stable JSONL export schema documented in docs/formats.md.
Does I/O through the `Library` it is given.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import InvalidInput, NotFound
from .export import EXPORT_FORMATS
from .ingest import BATCH, ImportReport, MatchState, now_iso, paper_values, prepare_stored, store_batch
from .models import PLAIN_FIELDS, Paper, StoredRecord, content_from_json, to_jsonable
from .storage import Library, PaperRow, RecordRow, is_postgres, search_index, without_password
from .storage.profiles import move_paper_refs


def load_paper(lib: Library, pk: int, with_sources: bool = True) -> Paper:
    row = lib.paper_row(pk)
    paper = paper_of_row(row)
    if with_sources:
        paper.sources = [
            StoredRecord(r.key, row.id, r.importer, r.path, r.line, r.imported_at, r.fields, "")
            for r in lib.records_of(pk)
        ]
    return paper


def load_papers(lib: Library, pks: list[int]) -> dict[int, Paper]:
    """Many papers without their sources, read in one query (a page of hits); missing pks are left out."""
    return {pk: paper_of_row(row) for pk, row in lib.paper_rows(pks).items()}


def paper_of_row(row: PaperRow) -> Paper:
    d = row.data
    return Paper(
        id=row.id,
        ids=list(d.get("ids", [])),
        has_code=bool(d.get("has_code")),
        provenance=dict(d.get("provenance", {})),
        **{**content_from_json(d), "title": row.title, "abstract": row.abstract},
    )


def get_paper(lib: Library, ref: str) -> Paper:
    """A paper by any of its ids: `arxiv:2410.09918`, `2410.09918v2`, a DOI, a local id."""
    return load_paper(lib, lib.resolve(ref))


def list_papers(lib: Library, limit: int | None = 20, offset: int = 0, order: str = "recent") -> list[Paper]:
    pks = lib.list_pks(limit, offset, order)
    papers = load_papers(lib, pks)
    return [papers[pk] for pk in pks]


def paper_json(paper: Paper, with_sources: bool = True) -> dict[str, Any]:
    """The documented export shape of one paper (docs/formats.md, "JSONL export")."""
    out: dict[str, Any] = {
        "id": paper.id,
        "ids": paper.ids,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": to_jsonable(paper.authors),
        "authors_complete": paper.authors_complete,
        "author_count": paper.author_count,
        "categories": paper.categories,
        "dates": to_jsonable(paper.dates),
        "links": paper.links,
        "has_code": paper.has_code,
        **{name: getattr(paper, name) for name in PLAIN_FIELDS},  # comment, organisation, upvotes...
        "provenance": paper.provenance,
    }
    if with_sources:
        out["sources"] = [
            {
                "key": s.key,
                "importer": s.importer,
                "path": s.path,
                "line": s.line,
                "imported_at": s.imported_at,
                "fields": s.fields,
            }
            for s in paper.sources
        ]
    return out


def stats(lib: Library) -> dict[str, Any]:
    return {"path": without_password(lib.path), **lib.counts(), "records_by_importer": lib.source_counts()}


def export_papers(papers: Iterable[Paper], fmt: str) -> str:
    """Papers as text in one of EXPORT_FORMATS."""
    papers = list(papers)
    if fmt == "jsonl":
        return "".join(json.dumps(paper_json(p), ensure_ascii=False) + "\n" for p in papers)
    if fmt in EXPORT_FORMATS:
        from . import export

        return str(getattr(export, f"to_{fmt}")(papers))
    raise InvalidInput(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")


def check_folder(path: str | Path) -> Path:
    """`path` once its folder is known to exist: a file is written into an existing folder, never
    into folders made up on the way (a mistyped `-o` would otherwise scatter files silently)."""
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        raise InvalidInput(f"folder {folder} does not exist")
    return path


def check_library_folder(location: str) -> None:
    """A library file goes in a folder that exists (`check_folder`); a PostgreSQL address or an
    in-memory library has no folder to check."""
    if location != ":memory:" and not is_postgres(location):
        check_folder(location)


def write_atomic(path: str | Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it; its folder
    must exist (`check_folder`)."""
    path = check_folder(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- corrections


def merge_papers(lib: Library, into: str, other: str) -> Paper:
    """Make `other` part of `into` (a user's correction; kept and re-applied by `rebuild`)."""
    a, b = lib.resolve(into), lib.resolve(other)
    if a == b:
        raise InvalidInput(f"{into} and {other} are already the same paper")
    with lib.transaction():
        _merge(lib, a, b, record=True)
    return load_paper(lib, a)


def _merge(lib: Library, a: int, b: int, record: bool) -> None:
    recs_a, recs_b = lib.records_of(a), lib.records_of(b)
    now = now_iso()
    if record:
        for r in recs_b:
            lib.add_correction("merge", recs_a[0].key, r.key, now)
    lib.move_records([r.key for r in recs_b], a)
    lib.move_aliases(b, a)  # every id of the merged-away paper, its local id too, now finds `a`
    move_paper_refs(lib, b, a)  # profiles, feedback and seen marks follow the paper
    lib.delete_paper(b)
    values, _ = paper_values(recs_a + recs_b)
    lib.update_paper(a, values)


def split_paper(lib: Library, ref: str, record_keys: list[str]) -> tuple[Paper, Paper]:
    """Move some source records of a paper into a paper of their own (a user's correction)."""
    pk = lib.resolve(ref)
    recs = lib.records_of(pk)
    keys = {r.key for r in recs}
    wanted = [k for k in keys if any(k.startswith(p) for p in record_keys)]
    unknown = [p for p in record_keys if not any(k.startswith(p) for k in keys)]
    if unknown:
        raise NotFound(f"{ref} has no source record {', '.join(unknown)} (see `papers show {ref}`)")
    if len(wanted) == len(recs):
        raise InvalidInput("a split must leave at least one source record with the paper")
    stay = [r for r in recs if r.key not in wanted]
    go = [r for r in recs if r.key in wanted]
    now = now_iso()
    with lib.transaction():
        for g in go:
            for s in stay:
                lib.add_correction("split", s.key, g.key, now)
        new_pk = _rehome(lib, pk, stay, go)
    return load_paper(lib, pk), load_paper(lib, new_pk)


def _rehome(lib: Library, pk: int, stay: list[RecordRow], go: list[RecordRow]) -> int:
    values, chosen = paper_values(stay)
    new_values, new_chosen = paper_values(go)
    if new_values.id == values.id:  # both sides carry the same id: the split-off part uses its own
        new_values = replace(new_values, id=f"paperradar:{go[0].key[:12]}")
    lib.delete_aliases(pk)  # each side gets its own back below; the paper row stays (its records point at it)
    lib.update_paper(pk, values)
    new_pk = lib.insert_paper(new_values)
    lib.move_records([r.key for r in go], new_pk)
    lib.add_aliases(pk, [*chosen["ids"], f"paperradar:{stay[0].key[:12]}"])
    lib.add_aliases(
        new_pk, [i for i in new_chosen["ids"] if i not in chosen["ids"]] + [f"paperradar:{go[0].key[:12]}"]
    )
    return new_pk


def rebuild(lib: Library) -> dict[str, Any]:
    """Re-run matching over every stored record, re-apply the user's merges (splits stay in force
    through matching), and carry to the new papers every row that refers to a paper (profiles'
    papers, feedback, seen marks, topic members, any table added later) and the vectors of
    unchanged text. One transaction on either backend: a failure leaves the library as it was,
    and writers wait until it ends. Used after matching rules change."""
    report = ImportReport(without_password(lib.path), "rebuild")
    with lib.transaction():
        lib.stash_for_rebuild()
        state = MatchState(lib)
        for batch in lib.stashed_records(BATCH):
            report.read += len(batch)
            store_batch(lib, [prepare_stored(r, raw) for r, raw in batch], report, state)
        _reapply_merges(lib)
        carried = lib.restore_embeddings(_pks_by_text_hash(lib))
        user_rows = lib.restore_paper_refs()
        problems = lib.check_integrity()
        if problems:
            raise InvalidInput(
                f"rebuild produced an inconsistent library ({'; '.join(problems)}); kept the old one"
            )
        papers = lib.counts()["papers"]
    search_index.drop(lib)  # it names papers by their old pks: `index` builds it again
    return {
        "records": report.read,
        "papers": papers,
        "merged": report.merged,
        "embeddings_kept": carried,
        "user_rows_kept": user_rows,
    }


def _reapply_merges(lib: Library) -> None:
    """The user's merges, except those a later split undid, made again on the new papers."""
    corrections = lib.corrections()
    latest = {frozenset((a, b)): kind for kind, a, b in corrections}
    for kind, a, b in corrections:
        if kind == "merge" and latest[frozenset((a, b))] == "merge":
            pa, pb = lib.paper_of_record(a), lib.paper_of_record(b)
            if pa != pb:
                _merge(lib, pa, pb, record=False)


def _pks_by_text_hash(lib: Library) -> dict[str, int]:
    """Text hash -> a paper with that text (embeddings are stored by the hash of their text)."""
    from .index import text_hash, text_of

    by_hash: dict[str, int] = {}
    for pk, title, abstract in lib.paper_texts():
        text = text_of(title, abstract)
        if text:
            by_hash.setdefault(text_hash(text), pk)
    return by_hash
