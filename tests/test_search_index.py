"""The Tantivy keyword index (storage/search_index.py, search_engine.py) on a real library: 3,000
papers of the shared arXiv corpus, the size threshold lowered. Whatever it answers must match the
same papers FTS5 matches (words, phrases, hyphenated words, exclusions, prefixes, the relaxed
any-word retry, filters), also after papers were imported, merged or split since the build; a
killed build is never used; `papers rebuild` drops it. Does I/O (temporary libraries, their
`.tantivy/` folders, a build process killed with SIGKILL).
"""

from __future__ import annotations

import itertools
import lzma
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHARED, need_shared
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import merge_papers, rebuild, split_paper
from paperradar.search import Filters, refresh_keyword_lists, search
from paperradar.storage import open_library, search_engine, search_index
from paperradar.storage.fts import parse_query, relaxed_terms

PAPERS = 3000
QUERIES = [
    "learning", "neural networks", "deep learning", '"neural network"', "kv-cache", "state-of-the-art",
    "learn*", '"language model"*', "graph -neural", "quantum -state -entanglement", "the", "image segmentation",
    "transformer attention", "bayesian inference", "reinforcement learning robot", "xylophonically",
]  # fmt: skip
NO_FILTERS = Filters()
FILTERS = [
    NO_FILTERS,
    Filters(since="2024"),
    Filters(until="2023-06"),
    Filters(since="2025-01-15", categories=("cs",)),
    Filters(categories=("cs.lg", "stat")),
    Filters(has_code=True),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A closed library of PAPERS papers; each test works on its own copy."""
    corpus = need_shared(SHARED / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz")
    folder = tmp_path_factory.mktemp("tantivy")
    part = folder / "part.jsonl"
    with lzma.open(corpus, "rt") as f:
        lines = list(itertools.islice(f, PAPERS + 200))
    part.write_text("".join(lines[:PAPERS]))
    (folder / "more.jsonl").write_text("".join(lines[PAPERS:]))
    library = open_library(folder / "lib.db")
    import_source(library, Source.from_file(part))
    library.close()
    return folder


@pytest.fixture
def lib(built, tmp_path, monkeypatch):
    shutil.copy(built / "lib.db", tmp_path / "lib.db")
    library = open_library(tmp_path / "lib.db")
    monkeypatch.setattr(search_index, "MIN_PAPERS", 10)
    assert "keyword_index" in refresh_keyword_lists(library)
    yield library
    library.close()


def engine(lib, text: str, f: Filters = NO_FILTERS, relaxed: bool = False) -> tuple[set[int], int]:
    q = parse_query(text)
    terms = relaxed_terms(q.terms) if relaxed else list(q.terms)
    found = search_engine.ranked(lib, terms, list(q.excluded), "OR" if relaxed else "AND", f, 10_000, 0)
    assert found is not None, text
    return {pk for pk, _ in found[0]}, found[1]


def fts5(lib, text: str, f: Filters = NO_FILTERS, relaxed: bool = False) -> tuple[set[int], int]:
    q = parse_query(text)
    terms = relaxed_terms(q.terms) if relaxed else list(q.terms)
    words = (terms, list(q.excluded), "OR" if relaxed else "AND")
    return {pk for pk, _ in lib.text_ranked(*words, f, 10_000, 0)}, lib.text_count(*words, f)


def same_matches(lib, queries=QUERIES, filters=FILTERS) -> int:
    """Every query under every filter matches the same papers in both engines; how many matched."""
    matched = 0
    for text, f, relaxed in itertools.product(queries, filters, (False, True)):
        got, want = engine(lib, text, f, relaxed), fts5(lib, text, f, relaxed)
        assert got == want, (text, f, relaxed)
        matched += want[1]
    return matched


def test_the_tokenizer_is_the_librarys(lib):
    sql = lib.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'papers_fts'").fetchone()[0]
    assert search_index.TOKENIZE in sql
    assert search_index.STEMS.tokens("Learning Networks, naïve KV-cache") == [
        "learn",
        "network",
        "naiv",
        "kv",
        "cach",
    ]


def test_the_index_matches_what_fts5_matches(lib):
    assert same_matches(lib) > 10_000  # the queries match many papers, not a handful


def test_search_ranks_like_fts5(lib, monkeypatch):
    """The same totals; the top ten mostly the same papers (the two BM25s differ in detail)."""
    queries = [q for q in QUERIES if not q.endswith("*")]
    with_index = [search(lib, q, limit=10) for q in queries]
    monkeypatch.setattr(search_index, "ENABLED", False)
    exact = [search(lib, q, limit=10) for q in queries]
    overlaps = []
    for got, want in zip(with_index, exact, strict=True):
        assert (got.total, got.relaxed) == (want.total, want.relaxed)
        top = {h.paper.id for h in want.hits}
        overlaps.append(len(top & {h.paper.id for h in got.hits}) / max(1, len(top)))
    assert sum(overlaps) / len(overlaps) >= 0.8


def test_new_merged_and_split_papers_after_the_build(lib, built):
    import_source(lib, Source.from_file(built / "more.jsonl"))
    new_titles = [r.title for r in map(lib.paper_row, range(PAPERS - 50, PAPERS + 200)) if r and r.title]
    first, second = search_engine.ranked(lib, *_words("learning"), Filters(), 2, 0)[0]
    gone = lib.paper_row(second[0]).id
    merge_papers(lib, lib.paper_row(first[0]).id, gone)
    assert second[0] not in engine(lib, "learning")[0]  # removed: never answered
    queries = [" ".join(t.split()[:3]) for t in new_titles[-5:]] + ["learning", "model", '"neural network"']
    assert same_matches(lib, queries, [Filters(), Filters(since="2024")]) > 100
    assert search(lib, new_titles[-1], limit=5).total == fts5(lib, new_titles[-1])[1]


def test_merged_then_split_papers_after_the_build(lib):
    (a, _), (b, _) = search_engine.ranked(lib, *_words("quantum"), Filters(), 2, 0)[0]
    a_id, b_id, b_title = lib.paper_row(a).id, lib.paper_row(b).id, lib.paper_row(b).title
    b_keys = [r.key for r in lib.records_of(b)]
    words = " ".join(b_title.split()[:3])
    merge_papers(lib, a_id, b_id)  # b is removed, a holds both papers' records
    assert b not in engine(lib, "quantum")[0]
    assert same_matches(lib, [words, "quantum"], [Filters()]) > 0
    split_paper(lib, a_id, b_keys)  # b's records become a new paper again
    pk = lib.resolve(b_id)
    assert pk > search_index.load(lib).meta["max_pk"] and pk in engine(lib, words)[0]
    assert same_matches(lib, [words, "quantum"], [Filters()]) > 0


def _words(text: str):
    q = parse_query(text)
    return list(q.terms), list(q.excluded), "AND"


def test_a_killed_build_is_never_used_and_the_next_index_builds_it(lib, tmp_path):
    folder = search_index.folder_of(lib)
    search_index.drop(lib)
    lib.checkpoint()
    started = tmp_path / "started"
    code = (
        "import sys, time\n"
        "from paperradar.storage import open_library, search_index\n"
        "search_index.CHUNK = 100\n"
        "def progress(done, total=None, message=''):\n"
        f"    open({str(started)!r}, 'w').close() if done >= 1000 else None\n"
        "    time.sleep(0.2 if done >= 1000 else 0)\n"
        f"search_index.build(open_library({str(tmp_path / 'lib.db')!r}), progress)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the build never got under way"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not folder.exists() and search_index.load(lib) is None  # nothing half-built in use
    assert folder.with_name(folder.name + ".building").exists()
    assert search(lib, "learning", limit=5).total == fts5(lib, "learning")[1]  # FTS5 answers meanwhile
    assert "keyword_index" in refresh_keyword_lists(lib)  # the next `paperradar index`
    assert search_index.load(lib) is not None and not folder.with_name(folder.name + ".building").exists()
    assert refresh_keyword_lists(lib)["keyword_index"] == "up to date"


def test_sync_builds_only_for_big_libraries(lib, monkeypatch):
    folder = search_index.folder_of(lib)
    monkeypatch.setattr(search_index, "MIN_PAPERS", PAPERS * 10)
    assert refresh_keyword_lists(lib) == {}
    assert not folder.exists() and search_index.load(lib) is None
    assert search_engine.ranked(lib, *_words("learning"), Filters(), 10, 0) is None


def test_author_and_source_filters_are_left_to_fts5(lib):
    for f in (Filters(author="smith"), Filters(source="arxiv_snapshot")):
        assert search_engine.ranked(lib, *_words("learning"), f, 10, 0) is None
        assert search(lib, "learning", filters=f).total == fts5(lib, "learning", f)[1]


def test_papers_rebuild_drops_the_index_whose_pks_it_renumbers(lib):
    before = [h.paper.id for h in search(lib, "learning", limit=10).hits]
    rebuild(lib)
    assert search_index.load(lib) is None
    assert [h.paper.id for h in search(lib, "learning", limit=10).hits] != [] and before
    refresh_keyword_lists(lib)
    assert same_matches(lib, ["learning", '"neural network"'], [Filters()]) > 100


def test_a_build_in_worker_processes_gives_the_same_answers(lib):
    before = {q: engine(lib, q) for q in ("learning", '"neural network"', "graph -neural")}
    meta = search_index.build(lib, workers=2)
    assert meta["papers"] == PAPERS
    assert {q: engine(lib, q) for q in before} == before


PHRASES = ['"of the"', '"neural network"', '"model and"', "state-of-the-art", '"learning for"', '"in the"*']


def test_phrases_of_common_words_are_looked_up_by_their_pairs(lib):
    """A phrase of common tokens is answered from the papers holding its pairs (the `pairs` field),
    so Tantivy reads positions only there: the same papers as FTS5, the same scores as without."""
    side = search_index.load(lib)
    assert {"of", "the", "network", "neural", "learn", "model", "and"} <= side.common
    assert "xylophon" not in side.common
    # A pair's papers are exactly those where the two tokens are adjacent in one column (as FTS5's phrase).
    assert (
        side.searcher.doc_freq(search_index.PAIRS, "neural_network") == fts5(lib, '"neural network"')[1] > 20
    )
    assert side.searcher.doc_freq(search_index.PAIRS, "of_the") == fts5(lib, '"of the"')[1] > 500
    assert same_matches(lib, PHRASES, [NO_FILTERS, Filters(since="2024")]) > 2000
    # Two common tokens: the pair's list alone (no positions); four: positions where all pairs are.
    shape = {
        t: repr(search_engine._term(side, parse_query(t).terms[0]))
        for t in ('"model and"', "state-of-the-art")
    }
    assert (
        shape['"model and"'].startswith("Query(Boost(query=TermQuery(")
        and '"model_and"' in shape['"model and"']
    )
    assert "PhraseQuery" in shape["state-of-the-art"] and '"of_the"' in shape["state-of-the-art"]
    with_pairs = {q: search_engine.ranked(lib, *_words(q), NO_FILTERS, 50, 0) for q in PHRASES}
    common = side.common
    try:
        side.common = frozenset()  # the phrase alone, over every paper holding its tokens
        without = {q: search_engine.ranked(lib, *_words(q), NO_FILTERS, 50, 0) for q in PHRASES}
    finally:
        side.common = common
    assert with_pairs.keys() == without.keys()
    for q, (page, total) in with_pairs.items():
        assert total == without[q][1], q
        # The same papers with the same scores (a two-token phrase: the pair's BM25, boosted)
        assert [pk for pk, _ in page] == [pk for pk, _ in without[q][0]] or _tied(page, without[q][0]), q
        assert page and all(
            abs(a - b) <= 1e-4 * b for (_, a), (_, b) in zip(page, without[q][0], strict=True)
        ), q


def _tied(a, b) -> bool:
    """The same (pk, score) pairs where only papers of equal scores (to 1e-4) changed places."""
    return (
        {pk for pk, _ in a} == {pk for pk, _ in b}
        and bool(a)
        and all(abs(x - y) <= 1e-4 * y for (_, x), (_, y) in zip(a, b, strict=True))
    )
