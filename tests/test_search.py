"""Keyword search on a library of the five example pages: ranking, filters, snippets, pagination,
the any-term fallback, and safety for any text a user can type.

Expected counts were found by querying the same library with the sqlite3 shell (plain FTS5 MATCH,
LIKE over the JSON column) and by reading the pages. Does I/O (a temporary library).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from paperradar.errors import BackendUnavailable, InvalidInput
from paperradar.hits import highlight_html, hit_json, segments
from paperradar.importers.base import Source
from paperradar.ingest import expand_paths, import_source
from paperradar.search import Filters, search
from paperradar.storage import open_library
from paperradar.storage.fts import MARK_CLOSE, MARK_OPEN, Term, match_expression, parse_query, relaxed_terms

GEAR = "GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless Generative Inference of LLM"
H2O = "H₂O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models"
MAGICPIG = "MagicPIG: LSH Sampling for Efficient LLM Generation"
GALORE = "GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection"
Q_GALORE = "Q-GaLore: Quantized GaLore with INT4 Projection and Layer-Adaptive Low-Rank Gradients"
GWLP = "Gradient Weight-normalized Low-rank Projection for Efficient LLM Training"
SUBSPACE = "From Low Rank Gradient Subspace Stabilization to Low-Rank Weights: Observations, Theories, and Applications"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    library = open_library(tmp_path_factory.mktemp("search") / "lib.db")
    for path in expand_paths([EXAMPLES]):
        import_source(library, Source.from_file(path))
    yield library
    library.close()


def titles(result) -> list[str | None]:
    return [h.paper.title for h in result.hits]


# ---------------------------------------------------------------- ranking


def test_kv_cache_finds_the_kv_cache_papers_title_match_first(lib):
    r = search(lib, "KV cache")
    assert r.total == 15 and len(r.hits) == 15 and not r.relaxed
    assert titles(r)[0] == GEAR  # the only title that says "KV Cache"
    assert {GEAR, H2O, MAGICPIG} <= set(titles(r))
    assert [h.score for h in r.hits] == sorted((h.score for h in r.hits), reverse=True)
    assert r.hits and all(h.score > 0 for h in r.hits)


def test_low_rank_gradient_projection_finds_the_galore_family(lib):
    r = search(lib, "low-rank gradient projection")
    assert r.total == 7
    assert set(titles(r)[:4]) == {GALORE, Q_GALORE, GWLP, SUBSPACE}


def test_phrase_prefix_and_exclusion(lib):
    assert search(lib, '"KV cache"').total == 14  # as a phrase: one abstract has the words apart
    r = search(lib, '"KV cache" -GEAR')
    assert r.total == 13 and GEAR not in titles(r)
    assert {Q_GALORE, GALORE} <= set(titles(search(lib, "gal*")))
    assert search(lib, "gal").total == 0  # without the star it is a whole word


def test_a_long_query_with_no_paper_matching_every_word_falls_back_to_any_word(lib):
    r = search(lib, "low rank gradient projection for memory-efficient training of transformers")
    assert r.relaxed and r.total > 0
    assert titles(r)[0] == GALORE
    assert r.notes == ["no paper matches every term; showing papers that match any of them"]
    assert r.hits[0].reasons[0].startswith("matches ")
    # stopwords are left out of the fallback, so "of" and "for" do not pull in the whole library
    assert r.total < 177


def test_empty_query_lists_the_newest_papers(lib):
    r = search(lib, "   ", limit=3)
    assert r.total == 177
    dates = [h.paper.dates["published"].iso() for h in r.hits]
    assert dates == sorted(dates, reverse=True) and dates[0] == "2025-11-11"


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("filters", "total"),
    [
        (Filters(has_code=True), 8),
        (Filters(categories=("cs.CL",)), 3),
        (Filters(categories=("cs.cl", "nope.XX")), 3),
        (Filters(since="2024"), 5),
        (Filters(until="2023"), 2),
        (Filters(since="2024-04", until="2024-06"), 3),  # "until 2024-06" keeps June 7th
        (Filters(source="page_hf_papers"), 1),
        (Filters(source="page_profile_feed"), 4),
        (Filters(author="zhang"), 1),
        (Filters(author="ZHANG", has_code=True, since="2023"), 1),
    ],
)
def test_filters_narrow_the_results(lib, filters, total):
    r = search(lib, "KV cache", filters=filters)
    assert r.total == total == len(r.hits)


def test_filter_details(lib):
    assert titles(search(lib, "KV cache", filters=Filters(author="zhang"))) == [H2O]
    assert MAGICPIG in titles(search(lib, "KV cache", filters=Filters(categories=("cs",))))
    assert (
        search(lib, "", filters=Filters(categories=("cs",))).total == 50
    )  # every paper with a cs.* category
    assert search(lib, "", filters=Filters(author="Zhenyu Zhang")).total >= 3
    with pytest.raises(InvalidInput, match="2024-10"):
        Filters(since="last week")
    with pytest.raises(InvalidInput, match="no letters"):
        search(lib, "KV cache", filters=Filters(author="***"))


# ---------------------------------------------------------------- pages, snippets, modes


def test_pagination(lib):
    everything = [h.paper.id for h in search(lib, "KV cache", limit=100).hits]
    pages = [search(lib, "KV cache", limit=5, offset=o) for o in (0, 5, 10, 15)]
    assert [p.total for p in pages] == [15, 15, 15, 15]
    assert [h.paper.id for p in pages for h in p.hits] == everything
    assert pages[3].hits == []
    with pytest.raises(InvalidInput):
        search(lib, "KV cache", offset=-1)
    with pytest.raises(InvalidInput):
        search(lib, "KV cache", limit=100_000)


def test_snippets_highlight_the_query_terms(lib):
    r = search(lib, "KV cache")
    for hit in r.hits:
        marked = {text.casefold() for text, on in hit.snippet if on}
        assert marked and marked <= {"kv", "cache", "caching", "kv cache", "kv) cache", "caches"}, marked
    gear = r.hits[0]
    assert [t for t, on in gear.title if on] == ["KV", "Cache"]
    data = hit_json(gear)
    assert [data["snippet"][a:b].casefold() for a, b in data["highlights"]][:2] == ["kv", "caching"]
    assert set(data) == {
        "id",
        "ids",
        "title",
        "score",
        "snippet",
        "highlights",
        "authors",
        "date",
        "categories",
        "reasons",
    }
    assert data["title"] == GEAR and data["date"] == "2024-03-08"
    assert "title matches KV, Cache" in data["reasons"]


def test_snippet_falls_back_to_title_match_then_abstract_start(lib):
    # "Demystifying" is in JoMA's title only: the snippet is the title, with the word marked
    r = search(lib, "demystifying")
    assert r.total == 1 and r.hits[0].paper.title.startswith("JoMA: Demystifying Multilayer")
    assert r.hits[0].snippet[:2] == [("JoMA: ", False), ("Demystifying", True)]
    assert r.hits[0].reasons == ["title matches Demystifying"]
    # an author's name matches neither: the snippet is the abstract's start
    r = search(lib, "Sadhukhan")
    assert MAGICPIG in titles(r)
    hit = r.hits[titles(r).index(MAGICPIG)]
    assert hit.snippet[0][0].startswith("Large language models (LLMs) with long context windows")
    assert hit.reasons == ["authors match Sadhukhan"]


def test_segments_and_html_are_safe():
    segs = segments(f"a [b] <i>{MARK_OPEN}KV{MARK_CLOSE} & {MARK_OPEN}cache")
    assert segs == [("a [b] <i>", False), ("KV", True), (" & ", False), ("cache", True)]
    assert highlight_html(segs) == "a [b] &lt;i&gt;<mark>KV</mark> &amp; <mark>cache</mark>"
    assert segments(f"{MARK_CLOSE}{MARK_CLOSE}x{MARK_OPEN}") == [("x", False)]


def test_dense_modes_say_how_to_build_them(lib):
    for mode in ("semantic", "hybrid"):
        with pytest.raises(BackendUnavailable, match="run `paperradar index`"):
            search(lib, "KV cache", mode=mode)
    with pytest.raises(InvalidInput, match="keyword, semantic, hybrid"):
        search(lib, "KV cache", mode="fuzzy")


# ---------------------------------------------------------------- the grammar and hostile text


def test_grammar():
    q = parse_query('kv-cache "low rank" galor* -survey -"large language" AND title: (x')
    assert q.terms == (
        Term("kv-cache"),
        Term("low rank", phrase=True),
        Term("galor", prefix=True),
        Term("AND"),
        Term("title:"),
        Term("(x"),
    )
    assert q.excluded == (Term("survey"), Term("large language", phrase=True))
    assert match_expression(q.terms[:2], q.excluded[:1]) == '("kv-cache" AND "low rank") NOT ("survey")'
    assert parse_query('say "hi').terms == (Term("say"), Term("hi", phrase=True))
    assert parse_query('"" * - 🙂 ()').empty
    assert parse_query('a"b').terms[0].fts() == '"a""b"'
    assert relaxed_terms([Term("kv-cache"), Term("for"), Term("low rank", phrase=True)]) == [
        Term("kv"),
        Term("cache"),
        Term("low rank", phrase=True),
    ]
    long = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert len(long.terms) == 32 and long.dropped == 68


HOSTILE = [
    '"',
    '""',
    "'",
    "(",
    ")",
    "((",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "a AND",
    "OR b",
    "NOT NOT",
    "NEAR(a b, 3)",
    "*",
    "a*b*",
    "-",
    "--",
    "-a",
    "- -",
    ":",
    "title:",
    "title:kv",
    "{title abstract}: kv",
    "^kv",
    "kv^",
    "a + b",
    "😀 kv 🧪",
    "\u0000kv\x00",
    "\udcff cache",
    MARK_OPEN + "kv" + MARK_CLOSE,
    "kv " * 2000,
    "x" * 100_000,
    '"unbalanced (quote',
    "col:umn:s ::",
    "\\",
    "%_",
    "'; DROP TABLE papers; --",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_raise(lib, text):
    r = search(lib, text, limit=3)
    assert r.total >= len(r.hits)
    search(lib, text, limit=3, filters=Filters(author=text)) if parse_query(text).terms else None


_hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec=None, exclude_categories=())),  # surrogates included
    st.lists(
        st.sampled_from(
            ['"', "(", ")", "*", "-", ":", "^", "AND", "OR", "NOT", "NEAR", "kv", "cache", " ", "title:"]
        )
    ).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_hostile_text)
def test_any_text_is_a_valid_query(lib, text):
    r = search(lib, text, limit=2)
    assert r.total >= len(r.hits)


def test_sql_builders_bind_every_value():
    from paperradar.storage import fts

    f = Filters(
        since="2024",
        until="2024-06",
        categories=("cs.LG", "math"),
        author="Tian",
        has_code=True,
        source="bibtex",
    )
    for sql, params in (
        fts.ranked_sql('("kv")', f, 20, 40),
        fts.count_sql('("kv")', f),
        fts.browse_sql(f, '("kv")', 20, 0),
        fts.browse_count_sql(f, '("kv")'),
        fts.marks_sql('("kv")', [1, 2, 3]),
    ):
        assert sql.count("?") == len(params)
        assert "Tian" not in sql and "cs.LG" not in sql  # user text travels as parameters only
    assert fts.ranked_sql('("kv")', f, 20, 40)[1][-4:] == ["bibtex", 'authors : "Tian"*', 20, 40]
