"""Category filters stay right when a paper's categories arrive later, from another source."""

from __future__ import annotations

from paperradar.ingest import ImportReport, ingest_records
from paperradar.models import Record, SourceRef
from paperradar.storage import fts
from paperradar.storage.fts import Filters


def rec(importer, **kw):
    return Record(source=SourceRef(importer, "x", 1), **kw)


def test_categories_from_a_later_source_are_filterable(lib):
    ingest_records(
        lib,
        [rec("bibtex", ids=["arxiv:2401.00001"], title="A Paper About Retrieval")],
        ImportReport("t", "t"),
    )
    pk = lib.resolve("arxiv:2401.00001")
    assert fts.run_allowed(lib.conn, Filters(categories=("cs.IR",)), [pk]) == set()
    ingest_records(
        lib,
        [
            rec(
                "arxiv_atom",
                ids=["arxiv:2401.00001"],
                title="A Paper About Retrieval",
                categories=["cs.IR", "cs.CL"],
            )
        ],
        ImportReport("t", "t"),
    )
    for wanted in (("cs.IR",), ("CS.CL",), ("cs",), ("stat", "cs.cl")):
        assert fts.run_allowed(lib.conn, Filters(categories=wanted), [pk]) == {pk}, wanted
    for unwanted in (("cs.CV",), ("c",), ("math",)):
        assert fts.run_allowed(lib.conn, Filters(categories=unwanted), [pk]) == set(), unwanted
