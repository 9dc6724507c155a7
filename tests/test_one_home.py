"""One home per concept (issue 18): a paper's date, author line, untitled label and links are
computed in one place, so the CLI, the web pages, the JSON API, digests and citations say the same
thing. The cases are the ones where the old copies disagreed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperradar.cli import display_title
from paperradar.digest.build import build_digest, digest_json
from paperradar.digest.render import authors_line, render_text
from paperradar.display import author_line, paper_links, title_of
from paperradar.export import export
from paperradar.export.bibtex import split_name
from paperradar.hits import Hit, hit_json
from paperradar.importers._glued import is_person_name
from paperradar.models import Author, Paper, PartialDate, paper_date
from paperradar.normalize import PARTICLES, is_name_suffix
from paperradar.web.papers import paper_brief

SRC = Path(__file__).parents[1] / "src" / "paperradar"
D = PartialDate.from_iso


def relisted() -> Paper:
    """arXiv 1804.06498 (April 2018) listed again in October 2025, as a daily listing shows it."""
    return Paper(
        "arxiv:1804.06498", ["arxiv:1804.06498"], title="Old paper", dates={"listed": D("2025-10-13")}
    )


def yearless_published() -> Paper:
    """A page said "Apr 7" (no year) for published; a listing said 2024-04-07."""
    return Paper(
        "doi:10.1/x", ["doi:10.1/x"], title="T", dates={"published": D("--04-07"), "listed": D("2024-04-07")}
    )


class Ranked:
    def __init__(self, paper: Paper) -> None:
        self.paper, self.score, self.interest, self.reasons = paper, 1.0, None, ["r"]


def every_date(p: Paper) -> dict[str, str | None]:
    """The date each surface shows for `p`."""
    digest = build_digest("me", [Ranked(p)], generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    return {
        "model": paper_date(p),
        "web": paper_brief(p)["date"],
        "search json": hit_json(Hit(p, 1.0, [], []))["date"],
        "digest json": digest_json(digest)["papers"][0]["date"],
    }


@pytest.mark.parametrize(
    ("paper", "shown"),
    [
        (relisted(), "2018-04"),  # the id's month, not the re-listing (the copies said 2025-10-13)
        (yearless_published(), "2024-04-07"),  # a dated source beats a year-less one (they said --04-07)
        (Paper("x:1", ["x:1"], dates={"published": D("--04-07")}), "--04-07"),  # year never guessed
        (Paper("x:2", ["x:2"]), None),
    ],
)
def test_every_surface_shows_the_same_date(paper, shown):
    assert set(every_date(paper).values()) == {shown}
    assert paper.date == (D(shown) if shown else None)


def test_citation_year_and_text_digest_agree_with_the_shown_date():
    p = relisted()
    assert "year = {2018}" in export([p], "bibtex") and "month = apr" in export([p], "bibtex")
    digest = build_digest("me", [Ranked(p)], generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert "2018-04" in render_text(digest) and "2025-10-13" not in render_text(digest)


def names(*who: str, complete: bool = True) -> Paper:
    return Paper("x:1", ["x:1"], title="T", authors=[Author(n) for n in who], authors_complete=complete)


def test_author_line_is_one_rule_on_every_surface():
    many = names("A One", "B Two", "C Three", "D Four")
    assert author_line(many) == "A One, B Two, C Three et al."
    assert paper_brief(many)["authors"] == author_line(many)
    assert author_line(names("A One", complete=False)) == "A One et al."  # a source said "et al."
    assert author_line(names("A One", "B Two")) == "A One, B Two"
    assert author_line(names()) == ""
    assert authors_line(names()) == "authors unknown"  # a digest line is never blank
    assert authors_line(many) == "A One, B Two, C Three, D Four"  # digests show up to 6


def test_an_untitled_paper_has_one_label_in_cli_web_and_digest():
    fetchable = Paper("arxiv:2410.09918", ["arxiv:2410.09918"], abstract="We study things.")
    pasted = Paper("url:x", ["url:x"], abstract="We study **caches** in " + "long " * 20 + "contexts.")
    assert title_of(fetchable) == "arXiv 2410.09918 (title not fetched yet)"
    assert title_of(pasted).startswith("We study caches in long") and title_of(pasted).endswith("…")
    for p in (fetchable, pasted):
        assert paper_brief(p)["label"] == title_of(p)
        assert display_title(p) == f"[dim]{title_of(p)}[/dim]"  # the CLI dims it (was "(no title)")
        digest = build_digest("me", [Ranked(p)], generated_at=datetime(2026, 1, 1, tzinfo=UTC))
        assert f"1. {title_of(p)}" in render_text(digest)


def test_links_have_one_order_and_one_sanitiser_on_page_and_digest():
    p = Paper(
        "arxiv:2403.03507",
        ["arxiv:2403.03507"],
        links={
            "code": ["javascript:alert(1)", "https://github.com/a/b"],
            "hf": ["https://huggingface.co/papers/2403.03507"],
            "project": ["https://a.github.io"],
            "abs": ["http://arxiv.org/abs/2403.03507v4"],
        },
    )
    want = {
        "abs": "https://arxiv.org/abs/2403.03507",  # canonical, not the versioned http link
        "pdf": "https://arxiv.org/pdf/2403.03507",
        "code": "https://github.com/a/b",  # javascript: dropped, the next one kept
        "project": "https://a.github.io",
        "hf": "https://huggingface.co/papers/2403.03507",
    }
    digest = build_digest("me", [Ranked(p)], generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert list(paper_links(p).items()) == list(want.items())
    assert list(paper_brief(p)["links"].items()) == list(want.items())
    assert list(digest.items[0].links.items()) == list(want.items())
    assert "Project: https://a.github.io" in render_text(digest)


def test_name_particles_and_suffixes_are_one_list():
    assert split_name("Ludwig van Beethoven") == ("Ludwig", "van Beethoven", "")
    assert split_name("Martin Luther King Sr") == ("Martin Luther", "King", "Sr")  # "Sr" was missed by glued
    assert is_name_suffix("Sr") and is_name_suffix("jr.") and not is_name_suffix("Li")
    assert is_person_name("Martin King Sr")
    assert {"van", "von", "de", "della"} <= PARTICLES


def test_stop_words_are_scikit_learns_list_plus_one_domain_list():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from paperradar import authors, similar, stopwords
    from paperradar.topics import labels

    assert stopwords.ENGLISH == ENGLISH_STOP_WORDS  # the copy kept as data is scikit-learn's list
    assert {"propose", "state-of-the-art", "results"} <= stopwords.DOMAIN
    assert stopwords.CITEKEY_SKIP <= stopwords.ENGLISH
    assert labels.BOILERPLATE is stopwords.DOMAIN
    assert authors._TITLE_STOP is stopwords.STOP_WORDS  # an author's topic words
    assert similar.query_terms("Towards a novel method for KV cache compression", None) == [
        "cache",
        "compression",
    ]


def test_a_citekey_skips_a_leading_function_word_only():
    p = Paper("x:1", ["x:1"], title="Towards System Prompts", authors=[Author("Ada Lovelace")])
    assert "{lovelacesystem," in export([p], "bibtex")  # "Towards" skipped, "System" kept


def pattern_of(annotated) -> str:
    """The regex a FastAPI/pydantic Annotated parameter validates with."""
    field = annotated.__metadata__[0]
    return next(m.pattern for m in field.metadata if getattr(m, "pattern", None))


def test_feedback_kinds_are_one_tuple_that_checks_and_forms_are_built_from():
    from paperradar.digest import links
    from paperradar.models import FEEDBACK_KINDS
    from paperradar.storage import migrations, pg_migrations
    from paperradar.storage import profiles as stored
    from paperradar.web import profiles as web

    for schema in (migrations.MIGRATIONS, pg_migrations.MIGRATIONS):
        checks = re.findall(r"kind TEXT NOT NULL CHECK \(kind IN \(([^)]*'like'[^)]*)\)\)", "\n".join(schema))
        assert checks, "the feedback table's CHECK was not found"
        assert {tuple(re.findall(r"'(\w+)'", c)) for c in checks} == {FEEDBACK_KINDS}
    assert links.KINDS == stored.FEEDBACK_KINDS == FEEDBACK_KINDS
    kind = re.compile(pattern_of(web.Kind))
    assert all(kind.match(k) for k in (*FEEDBACK_KINDS, "not-interested")) and not kind.match("love")


def test_home_shows_a_button_for_every_feedback_kind():
    from paperradar.models import FEEDBACK_KINDS
    from paperradar.web.deps import make_templates

    env = make_templates().env
    macro = (
        '{% from "_macros.html" import feedback_form %}{{ feedback_form(p, "t", "me", "/", feedback_kinds) }}'
    )
    html = env.from_string(macro).render(p={"id": "arxiv:2410.09918"})
    assert re.findall(r'name="kind" value="(\w+)"', html) == list(FEEDBACK_KINDS)
    assert "feedback_kinds" in (SRC / "web" / "templates" / "home.html").read_text(encoding="utf-8")


def test_export_formats_are_one_tuple_for_cli_web_and_library():
    from paperradar import papers
    from paperradar.export import EXPORT_FORMATS, FORMATS
    from paperradar.web import library

    assert ("jsonl", *FORMATS) == EXPORT_FORMATS
    assert set(library.FILES) == set(EXPORT_FORMATS)  # every format has its media type and suffix
    fmt = re.compile(pattern_of(library.Format))
    assert EXPORT_FORMATS and all(fmt.match(f) for f in EXPORT_FORMATS) and not fmt.match("xml")
    paper = Paper("x:1", ["x:1"], title="T")
    assert EXPORT_FORMATS and all(papers.export_papers([paper], f) for f in EXPORT_FORMATS)


# ---------------------------------------------------------------- the homes are pinned

COPIES = {
    "the date kinds' order": (r"\"published\", \"created\", \"listed\", \"updated\"", {"models.py"}),
    "the author line": (r"\" et al\.\"", {"display.py"}),
    "the untitled label": (r"title not fetched yet|\(no title\)", {"display.py"}),
    "arXiv's canonical pdf link": (r"arxiv\.org/pdf/\{", {"display.py"}),
    "the name particles": (r"\"della\"", {"normalize.py"}),
    "the feedback kinds": (r"like\|dislike|\"like\", \"dislike\", \"not_interested\"\)", {"models.py"}),
    "the export formats": (r"\"jsonl\", \*FORMATS|\"jsonl\", \"bibtex\"|bibtex\|ris", {"export/__init__.py"}),
    "the name suffixes": (r"jr\\\\?\.", {"normalize.py"}),
    "the Embedder protocol": (r"class Embedder\(Protocol\)", {"embed/__init__.py"}),
    "scikit-learn's stop words": (r"whereafter|amoungst", {"stopwords.py"}),
    "the domain stop words": (r"sota\s+(?:specifically\s+state\s+)?state-of-the-art", {"stopwords.py"}),
}


# copies not yet moved to their home, each with why (issue 18 lists them; remove a line when done)
LEFTOVERS: dict[str, set[str]] = {}


@pytest.mark.parametrize("concept", list(COPIES))
def test_no_second_copy_of(concept):
    pattern, homes = COPIES[concept]
    homes = homes | LEFTOVERS.get(concept, set())
    found = {
        str(f.relative_to(SRC))
        for f in SRC.rglob("*")
        if f.suffix in (".py", ".html") and re.search(pattern, f.read_text(encoding="utf-8"))
    }
    assert found and found <= homes, f"{concept} is written out in {sorted(found - homes)}; use its home"


def test_record_and_paper_declare_their_content_fields_once():
    """issue 18: models.Content is the one home of the fields a Record states and a Paper keeps."""
    from dataclasses import fields

    from paperradar.models import CONTENT_FIELDS, PLAIN_FIELDS, Content, Record

    shared = {f.name for f in fields(Content)}
    assert issubclass(Record, Content) and issubclass(Paper, Content)
    assert set(PLAIN_FIELDS) < set(CONTENT_FIELDS) < shared
    own_record = {f.name for f in fields(Record)} - shared
    own_paper = {f.name for f in fields(Paper)} - shared
    assert own_record & own_paper == {"ids"}  # nothing else is declared twice
    assert Paper("x:1", ["x:1"], venue="ACL").venue == "ACL"
