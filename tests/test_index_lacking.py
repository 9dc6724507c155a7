"""What a model's vectors lack, found without reading every paper's text (issue 17).

`index.lacking` (and `lacking_pks`, `import_tier`) read only the texts of papers whose text changed
since their vectors were checked (the text_checks list, migration 16) and of papers without a
title; the rest comes from counts and an anti-join on indexes. Each test compares the answer with
the full pass it replaced (`full_pass_lacking`, kept here as the oracle), on both backends."""

from __future__ import annotations

import re
import sqlite3

import pytest

from paperradar.index import lacking, lacking_pks, text_hash, text_of, text_state, update_index
from paperradar.ingest import ImportReport, ingest_records
from paperradar.models import Record, SourceRef
from paperradar.papers import merge_papers
from test_index import HashingEmbedder


def full_pass_lacking(lib, model_id: str, others: list[str], at_most: int) -> tuple[int, list[int]]:
    """The old `index.lacking` (before issue 17's fix): one pass over every paper's text."""
    done, elsewhere = lib.embedding_hashes(model_id), [lib.embedding_hashes(m) for m in others]
    count = 0
    new: list[int] = []
    for pk, title, abstract in lib.paper_texts():
        text = text_of(title, abstract)
        if not text or done.get(pk) == (h := text_hash(text)):
            continue
        count += 1
        if len(new) < at_most and all(d.get(pk) != h for d in elsewhere):
            new.append(pk)
    return count, new


class Tier(HashingEmbedder):
    def __init__(self, model_id: str):
        super().__init__()
        self.model_id = model_id


FAST, QUALITY = Tier("test-fast"), Tier("test-quality")
QUESTIONS = [(QUALITY, [FAST]), (FAST, [QUALITY]), (QUALITY, []), (FAST, [])]


def put(lib, n: int, title: str | None, abstract: str | None, source: str = "a.bib") -> None:
    """Paper n, as one record (no title and no abstract: a paper without text). From a second
    source, the abstract is made 200 characters longer, so it wins (dedupe.choose_fields)."""
    if abstract and source != "a.bib":
        abstract += " More detail." * 16
    rec = Record(
        source=SourceRef("bibtex", source, n), ids=[f"arxiv:2401.{n:05d}"], title=title, abstract=abstract
    )
    ingest_records(lib, [rec], ImportReport("t", "t"))


def pk_of(lib, n: int) -> int:
    return lib.resolve(f"arxiv:2401.{n:05d}")


def same_as_full_pass(lib) -> None:
    for model, others in QUESTIONS:
        ids = [m.model_id for m in others]
        for at_most in (0, 1, 3, 100):
            got = lacking(lib, model.model_id, ids, at_most)
            assert got == full_pass_lacking(lib, model.model_id, ids, at_most), (model.model_id, ids, at_most)
        assert lacking_pks(lib, model.model_id) == full_pass_lacking(lib, model.model_id, [], 10**6)[1]


def library_with_every_case(lib) -> None:
    """Unchanged, changed (for one tier, for both), new, removed and text-less papers, two tiers."""
    for n in range(1, 13):
        put(lib, n, f"Paper {n} on graph networks", f"We study topic {n % 5} in depth.")
    put(lib, 13, None, None)  # no text, never lacking
    put(lib, 14, None, "An untitled note on graph networks.")  # weak, with text
    update_index(lib, FAST)
    with lib.transaction():
        lib.drop_embeddings(FAST.model_id, [pk_of(lib, 1)])  # an old paper without a fast vector
    update_index(lib, QUALITY, only=[pk_of(lib, n) for n in (1, 2, 3, 4)])
    put(lib, 2, "Paper 2 on graph networks", "A longer abstract from another source, which wins.", "b.bib")
    put(
        lib,
        6,
        "Paper 6 on graph networks",
        "Another longer abstract from another source, which wins.",
        "b.bib",
    )
    put(
        lib,
        3,
        "Paper 3 on graph networks",
        "Paper 3's text changed, then embedded again by quality.",
        "b.bib",
    )
    update_index(lib, QUALITY, only=[pk_of(lib, 3)])  # quality matches 3's text again, fast does not
    for n in (20, 21, 22):
        put(lib, n, f"A new paper {n} on proteins", "Folding proteins with diffusion models.")
    put(lib, 23, None, None)  # a new paper without text
    put(lib, 24, None, "Another untitled note, a new one.")
    merge_papers(lib, f"arxiv:2401.{5:05d}", f"arxiv:2401.{7:05d}")  # paper 7 is removed


def test_lacking_equals_the_full_pass_on_new_changed_unchanged_textless_and_removed_papers(any_lib):
    library_with_every_case(any_lib)
    same_as_full_pass(any_lib)
    count, new = lacking(any_lib, QUALITY.model_id, [FAST.model_id], 100)
    assert count > len(new) > 0  # both parts are exercised
    update_index(any_lib, FAST)  # the fast tier catches up: its stale vectors match again
    same_as_full_pass(any_lib)
    assert lacking(any_lib, FAST.model_id, [], 100) == (0, [])
    update_index(any_lib, QUALITY)
    same_as_full_pass(any_lib)
    assert any_lib.text_checks() == []  # every vector matches its text: the list is empty again


def test_a_text_that_changes_while_it_is_embedded_still_counts_as_lacking(any_lib):
    """The vector stored is of the text read before the change: `update_index` notices inside the
    transaction that stores it, even when a check emptied the list in between."""
    library_with_every_case(any_lib)
    target = pk_of(any_lib, 21)

    class ChangesTextMidway(Tier):
        def embed_batch(self, texts):
            if not self.seen:
                put(
                    any_lib,
                    21,
                    "A new paper 21 on proteins",
                    "Its abstract was replaced while embedding.",
                    "c.bib",
                )
                text_state(any_lib)  # another process's check lands here
            return super().embed_batch(texts)

    update_index(any_lib, ChangesTextMidway(QUALITY.model_id))
    count, _ = lacking(any_lib, QUALITY.model_id, [], 0)
    assert target in lacking_pks(any_lib, QUALITY.model_id)
    assert (count, []) == full_pass_lacking(any_lib, QUALITY.model_id, [], 0)
    same_as_full_pass(any_lib)


def test_lacking_reads_no_text_but_the_changed_and_the_untitled(tmp_path):
    from paperradar.storage import open_library

    lib = open_library(tmp_path / "lib.db")
    library_with_every_case(lib)
    text_state(lib)  # the first check reads the listed texts and takes the matching ones off
    listed, untitled = set(lib.text_checks()), set(lib.weak_papers())
    statements: list[str] = []
    lib.conn.set_trace_callback(statements.append)
    lacking(lib, QUALITY.model_id, [FAST.model_id], 100)
    lib.conn.set_trace_callback(None)
    texts = [s for s in statements if "title, abstract FROM papers" in s]
    assert texts and all("WHERE pk IN (" in s for s in texts)  # never the whole table
    read = {int(pk) for s in texts for pk in re.search(r"IN \(([^)]*)\)", s).group(1).split(",")}
    assert read <= listed | untitled
    assert len(listed) == 3  # papers 2, 3 and 6: a vector of the old text remains
    unchanged = {pk_of(lib, n) for n in (1, 4, 8, 9, 10, 11, 12, 20, 21, 22)}
    assert not read & unchanged and len(read) == 7  # the three and the four untitled
    lib.close()


def test_an_upgraded_library_checks_every_embedded_text_once(tmp_path):
    """A library from before migration 16 may hold vectors of changed text: they are all listed."""
    from paperradar.storage import open_library

    path = tmp_path / "lib.db"
    lib = open_library(path)
    library_with_every_case(lib)
    update_index(lib, FAST)
    lib.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TRIGGER papers_text_checks; DROP TABLE text_checks; PRAGMA user_version = 15;"
        " UPDATE papers SET abstract = 'Changed while no trigger watched.' WHERE title LIKE 'Paper 9 %';"
    )
    conn.close()
    lib = open_library(path)
    assert lacking(lib, FAST.model_id, [], 10) == full_pass_lacking(lib, FAST.model_id, [], 10)
    assert lacking(lib, FAST.model_id, [], 10) == (1, [pk_of(lib, 9)])
    same_as_full_pass(lib)
    lib.close()


@pytest.mark.parametrize(("limit", "tier"), [(100, "quality"), (3, "quality"), (0, "fast")])
def test_import_tier_hands_over_what_the_full_pass_would_embed(tmp_path, monkeypatch, limit, tier):
    """All the quality tier lacks when that is few; else the papers no tier has embedded when
    those are few; else all the fast tier lacks (never a pass over every text to find them)."""
    from paperradar.embed import load_embedder, models_dir
    from paperradar.index import import_tier
    from paperradar.storage import open_library

    if not (models_dir() / "manifest.json").is_file():
        pytest.skip("no embedding models: run `make models`")
    monkeypatch.setenv("PAPERRADAR_QUALITY_IMPORT_MAX", str(limit))
    lib = open_library(tmp_path / "lib.db")
    for n in range(1, 9):
        put(lib, n, f"Paper {n} on graph networks", f"We study topic {n} in depth.")
    put(lib, 9, None, None)
    fast = load_embedder("fast")
    update_index(lib, fast)
    put(lib, 2, "Paper 2 on graph networks", "A changed abstract.", "b.bib")
    put(lib, 30, "A new paper on proteins", "Folding proteins.")
    chosen = import_tier(lib)
    assert chosen is not None and chosen[0] == tier
    model = chosen[1].model_id
    others = [] if limit != 3 else [fast.model_id]
    assert chosen[2] == full_pass_lacking(lib, model, others, 10**6)[1]
    assert set(chosen[2]) >= {pk_of(lib, 2), pk_of(lib, 30)} and pk_of(lib, 9) not in chosen[2]
    assert len(chosen[2]) == {100: 9, 3: 2, 0: 2}[limit]
    lib.close()
