"""The five real sample pages into one library: any order, twice, same library; true merges only."""

from __future__ import annotations

import itertools

import pytest

from conftest import PAGES, need_shared
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.papers import get_paper, list_papers
from paperradar.storage import open_library

FILES = [
    "abstract-list.txt",
    "arxiv-author-listing.txt",
    "author-profile-with-categories.txt",
    "dataset-viewer-arxiv-abstracts.txt",
    "hf-daily-papers-search.txt",
]

# Papers that two pages show, found by reading them: (arXiv id from the listing, title on the profile page).
# The last three have rewritten abstracts (a later arXiv version) and agree on the date.
SAME_PAPER = {
    "2407.08296": "Q-GaLore: Quantized GaLore with INT4 Projection and Layer-Adaptive Low-Rank Gradients",
    "2407.19594": "Meta-Rewarding Language Models: Self-Improving Alignment with LLM-as-a-Meta-Judge",
    "2409.13695": "You Only Use Reactive Attention Slice For Long Context Retrieval",
    "2409.20370": "The Perfect Blend: Redefining RLHF with Mixture of Judges",
    "2410.09918": "Dualformer: Controllable Fast and Slow Thinking by Learning with Randomized Reasoning Traces",
    "2407.11239": "From Low Rank Gradient Subspace Stabilization to Low-Rank Weights: Observations, Theories, "
    "and Applications",
    "2405.04669": "Towards a Theoretical Understanding of the 'Reversal Curse' via Training Dynamics",
}


def build(tmp_path, order, name="lib.db"):
    lib = open_library(tmp_path / name)
    reports = [import_source(lib, Source.from_file(PAGES / f)) for f in order]
    return lib, reports


def shape(lib):
    """The library as a set of papers, each the set of (importer, line) of its source records."""
    out = set()
    for p in list_papers(lib, None):
        full = get_paper(lib, p.id)
        out.add(frozenset((s.importer, s.line) for s in full.sources))
    return out


@pytest.fixture(scope="module")
def pages():
    return need_shared(PAGES)


def test_counts_and_idempotence(pages, tmp_path):
    lib, reports = build(tmp_path, FILES)
    assert sum(r.read for r in reports) == 185
    assert sum(len(r.rejected) for r in reports) == 0
    assert lib.counts()["papers"] == 177
    assert sum(r.merged for r in reports) == 8
    again = [import_source(lib, Source.from_file(PAGES / f)) for f in FILES]
    assert sum(r.unchanged for r in again) == 185 and sum(r.new + r.merged for r in again) == 0
    assert lib.counts()["papers"] == 177
    assert lib.check_integrity() == []


def test_any_order_gives_the_same_library(pages, tmp_path):
    reference = shape(build(tmp_path, FILES, "ref.db")[0])
    orders = [list(reversed(FILES))] + [
        list(p) for p in itertools.islice(itertools.permutations(FILES), 7, 120, 41)
    ]
    for i, order in enumerate(orders):
        assert shape(build(tmp_path, order, f"o{i}.db")[0]) == reference, order


def test_papers_on_two_pages_are_one_record_with_both_sources(pages, tmp_path):
    lib, _ = build(tmp_path, FILES)
    for arxiv_id, title in SAME_PAPER.items():
        paper = get_paper(lib, arxiv_id)
        assert paper.title == title
        assert {s.importer for s in paper.sources} == {"page_arxiv_listing", "page_profile_feed"}
        assert paper.id == f"arxiv:{arxiv_id}"
        # each field says which record gave it
        assert {s.key for s in paper.sources} >= {paper.provenance["title"], paper.provenance["abstract"]}
    natural = [p for p in list_papers(lib, None) if (p.title or "").startswith("NaturalReasoning")]
    assert len(natural) == 1
    full = get_paper(lib, natural[0].id)
    assert {s.importer for s in full.sources} == {"page_abstract_list", "page_profile_feed"}


def test_galore_family_stays_four_papers(pages, tmp_path):
    lib, _ = build(tmp_path, FILES)
    papers = [get_paper(lib, p.id) for p in list_papers(lib, None)]

    def find(pred):
        hits = [p for p in papers if pred(p)]
        assert len(hits) == 1, [p.title for p in hits]
        return hits[0]

    galore = find(lambda p: (p.title or "").startswith("GaLore: Memory-Efficient"))
    qgalore = find(lambda p: (p.title or "").startswith("Q-GaLore"))
    galore2 = find(lambda p: "we present GaLore 2" in (p.abstract or ""))
    welore = find(lambda p: "2407.11239" in (p.arxiv_id or ""))
    assert len({galore.id, qgalore.id, galore2.id, welore.id}) == 4
    assert [s.importer for s in galore2.sources] == ["page_abstract_list"]


def test_every_field_a_page_shows_is_kept(pages, tmp_path):
    lib, _ = build(tmp_path, FILES)
    dualformer = get_paper(lib, "2410.09918")
    assert dualformer.dates["created"].iso() == "2024-10-13"  # from the listing
    assert dualformer.dates["published"].iso() == "2024-10-13"  # from the profile badge
    assert dualformer.categories == ["cs.AI"]
    assert dualformer.organisation == "meta-ai"
    assert [a.name for a in dualformer.authors][:2] == ["DiJia Su", "Sainbayar Sukhbaatar"]
    assert not dualformer.authors_complete
    eora = [p for p in list_papers(lib, None) if (p.title or "").startswith("EoRA")][0]
    assert (
        eora.organisation == "NVIDIA" and eora.upvotes == 2 and eora.dates["published"].iso() == "2024-10-28"
    )
    neural = [p for p in list_papers(lib, None) if p.title == "Neural Computers"][0]
    assert neural.dates["published"].iso() == "--04-07" and neural.score == 69.9  # no year guessed
