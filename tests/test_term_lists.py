"""Two-stage keyword ranking (storage/term_lists.py) on a real library: 3,000 papers of the shared
arXiv corpus, with lists built at a low threshold so that common words have them. Whatever the
lists answer must be the ranking FTS5's bm25 gives over every match; new, removed and filtered
papers included. Does I/O (a temporary library and its `.terms/` folder).
"""

from __future__ import annotations

import itertools
import lzma

import pytest

from conftest import SHARED, need_shared
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import merge_papers
from paperradar.search import Filters, search
from paperradar.storage import open_library, term_lists
from paperradar.storage.fts import Term

PAPERS = 3000
QUERIES = [
    "learning", "model", "neural networks", "deep learning", "language models", "data", "quantum state",
    "graph neural", "training data models", "image", "reinforcement learning", "the", "method results",
]  # fmt: skip


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    corpus = need_shared(SHARED / "corpora" / "arxiv-118k" / "arxiv_metadata.jsonl.xz")
    folder = tmp_path_factory.mktemp("terms")
    part = folder / "part.jsonl"
    with lzma.open(corpus, "rt") as f:
        part.write_text("".join(itertools.islice(f, PAPERS)))
    library = open_library(folder / "lib.db")
    import_source(library, Source.from_file(part))
    report = term_lists.build_term_lists(library, min_df=100, depth=60)
    assert report["words"] > 50
    yield library
    library.close()


def exact(lib, words: str, k: int, f: Filters | None = None) -> list[tuple[int, float]]:
    return lib.text_ranked([Term(w) for w in words.split()], [], "AND", f or Filters(), k, 0)


def two_stage(lib, words: str, k: int, f: Filters | None = None) -> list[tuple[int, float]] | None:
    return term_lists.ranked(lib, [Term(w) for w in words.split()], [], "AND", f or Filters(), k)


def same_ranking(got: list[tuple[int, float]], want: list[tuple[int, float]], rel: float = 1e-9) -> None:
    """The same papers in the same order (two that tie aside), with the same scores (within `rel`:
    after the library changed, the lists score with the statistics of their build)."""
    assert len(got) == len(want)
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=rel)
    for a, b in zip(got, want, strict=True):
        assert a[0] == b[0] or a[1] == pytest.approx(b[1], rel=1e-9)


def test_the_tokenizer_is_the_librarys(lib):
    sql = lib.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'papers_fts'").fetchone()[0]
    assert term_lists.TOKENIZE in sql
    assert term_lists.tokens("Learning Networks") == ["learn", "network"]


def test_lists_give_the_exact_bm25_ranking(lib):
    answered = 0
    for words in QUERIES:
        for k in (1, 10, 20):
            got = two_stage(lib, words, k)
            if got is not None:
                answered += 1
                same_ranking(got, exact(lib, words, k))
    assert answered >= len(QUERIES)  # most queries are answered from the lists, not handed back


def test_search_shows_the_same_hits_with_and_without_lists(lib, monkeypatch):
    with_lists = [search(lib, q, limit=20) for q in QUERIES]
    monkeypatch.setattr(term_lists, "ENABLED", False)
    without = [search(lib, q, limit=20) for q in QUERIES]
    for a, b in zip(with_lists, without, strict=True):
        assert a.total == b.total
        assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits], rel=1e-9)
        assert [h.paper.title for h in a.hits][:1] == [h.paper.title for h in b.hits][:1]


def test_filters_narrow_the_lists_ranking(lib):
    f = Filters(since="2020", categories=("cs",))
    got = two_stage(lib, "learning", 10, f)
    assert got is not None
    same_ranking(got, exact(lib, "learning", 10, f), rel=0.01)


def test_phrases_prefixes_and_excluded_words_are_left_to_the_exact_ranking(lib):
    f = Filters()
    assert term_lists.ranked(lib, [Term("deep learning", phrase=True)], [], "AND", f, 10) is None
    assert term_lists.ranked(lib, [Term("learn", prefix=True)], [], "AND", f, 10) is None
    assert term_lists.ranked(lib, [Term("learning")], [Term("deep")], "AND", f, 10) is None
    assert term_lists.ranked(lib, [Term("learning"), Term("model")], [], "OR", f, 10) is None
    assert term_lists.ranked(lib, [Term("xylophonically")], [], "AND", f, 10) is None  # no list


def test_a_paper_added_after_the_lists_is_ranked(tmp_path, lib):
    top_before = exact(lib, "learning", 1)[0][1]
    new = tmp_path / "new.jsonl"
    new.write_text(
        '{"id": "2999.00001", "title": "Learning to learn learning", "abstract": "Learning learning.",'
        ' "authors": ["A. Learner"], "categories": ["cs.LG"], "update_date": "2024-01-01"}\n'
    )
    import_source(lib, Source.from_file(new))
    got = two_stage(lib, "learning", 5)
    assert got is not None
    assert got[0][1] > top_before and lib.paper_row(got[0][0]).title == "Learning to learn learning"
    same_ranking(got, exact(lib, "learning", 5), rel=0.01)


def test_a_paper_merged_away_is_not_ranked(lib):
    first, second = (pk for pk, _ in exact(lib, "model", 2))
    merge_papers(
        lib, lib.paper_row(second).id, lib.paper_row(first).id
    )  # the best one is merged into the next
    got = two_stage(lib, "model", 10)
    assert got is not None and first not in [pk for pk, _ in got]
    same_ranking(got, exact(lib, "model", 10), rel=0.01)


def test_sync_builds_lists_only_for_big_libraries(lib, monkeypatch):
    folder = term_lists.folder_of(lib)
    monkeypatch.setattr(term_lists, "MIN_PAPERS", PAPERS * 10)
    term_lists.sync_term_lists(lib)
    assert folder is not None and not folder.exists() and term_lists.load(lib) is None
    monkeypatch.setattr(term_lists, "MIN_PAPERS", 10)
    monkeypatch.setattr(term_lists, "MIN_DF", 100)
    assert term_lists.sync_term_lists(lib)["keyword_lists"]["words"] > 50
    assert term_lists.sync_term_lists(lib) == {"keyword_lists": "up to date"}
    assert two_stage(lib, "learning", 10) is not None


def test_lists_of_some_words_are_those_of_a_whole_build(lib):
    term_lists.build_term_lists(lib, min_df=100, depth=60)
    whole = term_lists.load(lib)
    term_lists.build_term_lists(lib, min_df=100, depth=60, only=["Learning", "models", "xylophonically"])
    some = term_lists.load(lib)
    assert whole is not None and some is not None and set(some.words) == {"learn", "model"}
    for token in some.words:
        (df, a, b), (df2, c, d) = whole.words[token], some.words[token]
        assert df == df2 and list(whole.pks[a:b]) == list(some.pks[c:d])
        assert list(whole.scores[a:b]) == list(some.scores[c:d])


def test_papers_rebuild_drops_the_lists_whose_pks_it_renumbers(lib):
    from paperradar.papers import rebuild

    assert term_lists.load(lib) is not None
    before = [lib.paper_row(pk).id for pk, _ in exact(lib, "learning", 10)]
    rebuild(lib)  # numbers the papers anew: the merge above moves every later paper's pk
    assert term_lists.load(lib) is None and two_stage(lib, "learning", 10) is None
    assert [h.paper.id for h in search(lib, "learning", limit=10).hits] == before
    term_lists.build_term_lists(lib, min_df=100, depth=60)  # what the next `paperradar index` does
    same_ranking(two_stage(lib, "learning", 10), exact(lib, "learning", 10))
