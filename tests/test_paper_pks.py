"""A paper's pk is never given again once a merge has deleted its paper, on both backends (the
storage contract's `demo` library, SQLite and PostgreSQL): a sent digest remembers the newest pk it
saw (`last_paper_pk`) and the next digest takes the papers above it, so a new paper that reused the
pk of a merged-away newest paper would never be sent."""

# ruff: noqa: F811 - the tests take the imported `demo` fixture (both backends) by name
from __future__ import annotations

import json
from datetime import UTC, datetime

from paperradar import profiles as P
from paperradar.digest.service import candidates, window
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import merge_papers, split_paper
from paperradar.storage import delivery, open_library
from paperradar.storage.base import Library
from test_storage_contract import demo, demo_file, demo_template, pg_url_from  # noqa: F401

OWN, KEEPER = "arxiv:2404.19737", "arxiv:2310.01801"
NEW = {
    "id": "arxiv:2611.00001",
    "title": "Paged eviction of the key value cache",
    "abstract": "Evicting whole pages of cached keys keeps long-context decoding within a memory budget.",
    "authors": ["Grace Hopper"],
    "published": "2026-11-30",
}


def _id_of(lib: Library, pk: int) -> str:
    return str(lib.conn.execute("SELECT id FROM papers WHERE pk = ?", (pk,)).fetchone()[0])


def _digest_sent_up_to(lib: Library, pk: int) -> None:
    when = "2026-11-29T00:00:00+00:00"
    digest = delivery.create_digest(
        lib, "me", created_at=when, since=None, last_paper_pk=pk, message_id="<m@x>", items=[]
    )
    delivery.mark_sent(lib, digest, "me@example.org", when)


def _next_digest(lib: Library) -> set[str]:
    """The papers the next digest of "me" ranks (its candidates)."""
    new = window(lib, "me", datetime(2026, 12, 1, tzinfo=UTC))
    return {_id_of(lib, pk) for pk in candidates(lib, "me", new)}


def test_the_next_digest_has_a_paper_imported_after_the_newest_was_merged_away(demo):
    P.create_profile(demo, "me", papers=[OWN])
    top = max(demo.all_pks())
    _digest_sent_up_to(demo, top)  # a digest that saw every paper
    assert _next_digest(demo) == set()
    merge_papers(demo, KEEPER, _id_of(demo, top))  # the newest paper, and its pk, are gone
    assert max(demo.all_pks()) < top
    import_source(demo, Source.from_text(json.dumps(NEW) + "\n", "new.jsonl"))
    assert demo.resolve(NEW["id"]) > top
    assert _next_digest(demo) == {NEW["id"]}


def test_a_split_after_the_newest_was_merged_away_gets_a_new_pk(demo):
    top = max(demo.all_pks())
    merged = merge_papers(demo, KEEPER, _id_of(demo, top))
    other = open_library(demo.path)  # another connection: the highest pk given is stored
    try:
        _, split_off = split_paper(
            other, merged.id, [other.records_of(other.resolve(merged.id))[-1].key[:12]]
        )
        assert other.resolve(split_off.id) == top + 1
    finally:
        other.close()
