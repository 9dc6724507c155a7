"""Digests: building (pure), the renderers, signed feedback links, never-twice over the library,
and Atom feeds read back with feedparser.

The library holds real cs.CL papers (tests/data/sync) and a profile made of two RAG papers;
recommendations come from the real `recommend()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from paperradar import profiles
from paperradar.digest import (
    FeedbackClaim,
    LinkSettings,
    build_digest,
    render_atom,
    render_html,
    render_markdown,
    render_text,
    service,
    sign_feedback,
    verify_feedback,
)
from paperradar.errors import InvalidInput
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.models import Author, Paper, PartialDate
from paperradar.storage import delivery

SYNC = Path(__file__).parent / "data" / "sync"
NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
OWN = ["arxiv:2606.28737", "arxiv:2606.29090"]  # two RAG papers: the profile "rag"


class Rec:
    def __init__(self, paper: Paper, score: float, interest: str | None, reasons: list[str]) -> None:
        self.paper, self.score, self.interest, self.reasons = paper, score, interest, reasons


def paper(n: int, title: str = "A <b>bold</b> & fast method") -> Paper:
    return Paper(
        id=f"arxiv:2606.0000{n}", ids=[f"arxiv:2606.0000{n}"], title=title, abstract="We study things.",
        authors=[Author("Ada Lovelace"), Author("Alan Turing")], categories=["cs.CL"],
        dates={"published": PartialDate(2026, 6, 30)},
    )  # fmt: skip


LINKS = LinkSettings("https://radar.example", "s3cret", timedelta(days=30))


def small_digest(**kw):
    recs = [
        Rec(paper(1), 0.9, "retrieval", ["close to your paper “X”"]),
        Rec(paper(2), 0.8, "speech", []),
        Rec(paper(3), 0.7, "retrieval", []),
        Rec(paper(4), 0.6, None, []),
    ]
    return build_digest("rag", recs, generated_at=NOW, links=LINKS, **kw)


# ---------------------------------------------------------------- pure parts


def test_build_groups_by_interest_keeps_rank_and_skips_sent_papers():
    d = small_digest(already_sent=["arxiv:2606.00002"], limit=3)
    assert [it.paper.id for it in d.items] == ["arxiv:2606.00001", "arxiv:2606.00003", "arxiv:2606.00004"]
    assert [(g, [it.paper.id[-1] for it in items]) for g, items in d.groups] == [
        ("retrieval", ["1", "3"]),
        ("Other new papers", ["4"]),
    ]
    assert d.items[0].links["abs"] == "https://arxiv.org/abs/2606.00001"
    assert d.title == "3 new papers for rag"


def test_feedback_links_are_signed_expiring_and_tamper_proof():
    d = small_digest()
    url = d.items[0].links["not_interested"]
    assert url.startswith("https://radar.example/digest/feedback?t=")
    token = url.split("t=", 1)[1]
    claim = verify_feedback(token, "s3cret", now=NOW.timestamp())
    assert claim == FeedbackClaim(
        "rag", "arxiv:2606.00001", "not_interested", int((NOW + timedelta(days=30)).timestamp())
    )
    with pytest.raises(InvalidInput, match="expired"):
        verify_feedback(token, "s3cret", now=(NOW + timedelta(days=31)).timestamp())
    with pytest.raises(InvalidInput, match="not valid"):
        verify_feedback(token, "another secret", now=NOW.timestamp())
    forged = sign_feedback("guess", FeedbackClaim("rag", "arxiv:2606.00001", "like", claim.expires))
    with pytest.raises(InvalidInput, match="not valid"):
        verify_feedback(forged.split(".")[0] + "." + token.split(".")[1], "s3cret", now=NOW.timestamp())


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]


def test_html_email_escapes_text_uses_inline_styles_and_links_everything():
    d = small_digest()
    html = render_html(d)
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; fast method" in html and "<b>bold</b>" not in html
    parser = _Links()
    parser.feed(html)
    assert "style" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert sum(h.startswith("https://radar.example/digest/feedback?t=") for h in parser.hrefs) == 12
    assert "https://arxiv.org/pdf/2606.00003" in parser.hrefs
    assert html.index(">retrieval<") < html.index(">speech<") < html.index(">Other new papers<")


def test_text_and_markdown_carry_the_same_papers_and_links():
    d = small_digest()
    text, md = render_text(d), render_markdown(d)
    for it in d.items:
        assert it.links["like"] in text and it.links["like"] in md
    assert text.index("== retrieval ==") < text.index("== speech ==")
    assert "## retrieval" in md and "A <b>bold</b>" in text and "A \\<b\\>bold" in md


def test_empty_digest_says_so():
    d = build_digest("rag", [], generated_at=NOW)
    assert "Nothing new" in render_text(d) and "Nothing new" in render_html(d)


def test_atom_has_the_required_elements():
    d = small_digest()
    xml = render_atom(feed_id="tag:paperradar,2024:profile/rag", title="rag", items=d.items, updated=NOW,
                      self_url="https://radar.example/digest/rag/feed.atom")  # fmt: skip
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == "tag:paperradar,2024:profile/rag" and feed.feed.title == "rag"
    assert feed.feed.updated == "2026-07-01T08:00:00Z" and feed.feed.author == "paperradar"
    assert len(feed.entries) == 4
    first = feed.entries[0]
    assert first.id == "tag:paperradar,2024:paper/arxiv:2606.00001"
    assert first.title == "A <b>bold</b> & fast method"
    assert first.updated == "2026-06-30T00:00:00Z"
    assert first.link == "https://arxiv.org/abs/2606.00001"
    assert [a.name for a in first.authors] == ["Ada Lovelace", "Alan Turing"]
    assert first.tags[0].term == "cs.CL"


# ---------------------------------------------------------------- over the library


@pytest.fixture
def rag_lib(lib):
    for f in sorted(SYNC.glob("cs.CL_run1_*.xml")):
        import_source(lib, Source.from_bytes(f.read_bytes(), f.name), "arxiv_atom")
    profiles.create_profile(lib, "rag", papers=OWN)
    return lib


def test_preview_ranks_new_papers_without_changing_anything(rag_lib):
    d = service.preview_digest(rag_lib, "rag", limit=3)
    ids = [it.paper.id for it in d.items]
    assert len(ids) == 3 and not set(ids) & set(OWN)
    assert d.items and all(it.reasons for it in d.items)
    assert delivery.digests_of(rag_lib, "rag") == []
    assert profiles.get_profile(rag_lib, "rag").seen == 0


def test_never_twice_across_runs(rag_lib):
    outbox = []

    def run(**kw):
        return service.send_digest(
            rag_lib, "rag", to="me@x", sender="r@x", deliver=outbox.append, limit=3, **kw
        )

    first = run()
    second = run(all_time=True)  # even when asked for every paper, the sent ones stay out
    third = run(all_time=True)
    assert first.status == second.status == "sent" and third.status == "nothing_new"
    assert len(first.papers) == 3 and len(second.papers) == 3  # 8 papers: 2 own + 6 new
    assert not set(first.papers) & set(second.papers)
    assert len(outbox) == 2
    assert first.papers and all(
        f"arxiv.org/abs/{p[6:]}" in outbox[0].get_body(("plain",)).get_content() for p in first.papers
    )


def test_a_failed_send_is_retried_with_the_same_digest(rag_lib):
    from paperradar.errors import NetworkError

    def down(_msg):
        raise NetworkError("cannot reach the SMTP server localhost:1: connection refused")

    failed = service.send_digest(rag_lib, "rag", to="me@x", sender="r@x", deliver=down, limit=3)
    assert failed.status == "failed" and "connection refused" in failed.error
    assert delivery.sent_pks(rag_lib, "rag") == set()
    outbox = []
    again = service.send_digest(rag_lib, "rag", to="me@x", sender="r@x", deliver=outbox.append, limit=3)
    assert again.status == "sent" and again.retried
    assert again.papers == failed.papers and again.message_id == failed.message_id
    [row] = delivery.digests_of(rag_lib, "rag")
    assert row.status == "sent" and row.attempts == 2 and row.message_id == failed.message_id
    assert [it.paper_id for it in row.items] == failed.papers and [it.rank for it in row.items] == [1, 2, 3]


def test_profile_and_search_feeds_parse(rag_lib):
    xml = service.profile_feed(rag_lib, "rag", limit=5, base_url="https://radar.example")
    feed = feedparser.parse(xml)
    assert not feed.bozo and len(feed.entries) == 5
    assert feed.feed.links[0].href == "https://radar.example/digest/rag/feed.atom"
    assert not {e.id.rsplit("/", 1)[1] for e in feed.entries} & set(OWN)
    found = feedparser.parse(service.search_feed(rag_lib, "speech recognition"))
    assert not found.bozo and found.entries
    assert found.entries and all("speech" in (e.title + e.summary).lower() for e in found.entries)


def test_papers_added_right_after_a_digest_are_in_the_next_one(rag_lib):
    # the clock says the first digest was made later than the papers that arrive after it (times
    # have whole seconds, clocks are not exact): the window follows the library's order, not the clock
    outbox = []
    later = datetime.now(UTC) + timedelta(hours=1)
    first = service.send_digest(
        rag_lib, "rag", to="me@x", sender="r@x", deliver=outbox.append, limit=3, now=later
    )
    import_source(
        rag_lib, Source.from_bytes((SYNC / "cs.CL_run2_start0.xml").read_bytes(), "run2"), "arxiv_atom"
    )
    second = service.send_digest(rag_lib, "rag", to="me@x", sender="r@x", deliver=outbox.append, limit=3)
    assert second.status == "sent" and not set(first.papers) & set(second.papers)
    assert set(second.papers) == {"arxiv:2606.31033", "arxiv:2606.31608", "arxiv:2606.31642"}
