"""The five pasted-page importers, on the real pasted pages from ../shared and small broken variants."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paperradar.errors import ParseError
from paperradar.importers import (
    _glued,
    page_abstract_list,
    page_arxiv_listing,
    page_dataset_viewer,
    page_hf_papers,
    page_profile_feed,
)
from paperradar.importers.base import Source
from paperradar.models import PartialDate, Record

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAGES = SHARED / "samples" / "pages"
DATA = Path(__file__).parent / "data" / "pages"

PAGE_IMPORTERS = {
    "arxiv-author-listing.txt": page_arxiv_listing,
    "dataset-viewer-arxiv-abstracts.txt": page_dataset_viewer,
    "hf-daily-papers-search.txt": page_hf_papers,
    "author-profile-with-categories.txt": page_profile_feed,
    "abstract-list.txt": page_abstract_list,
}


def sample(name: str) -> Path:
    path = PAGES / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing under CI")
        pytest.skip("../shared not found")
    return path


def parse(module, path: Path) -> tuple[list[Record], list[ParseError]]:
    out = list(module.parse(Source.from_file(path)))
    records = [r for r in out if isinstance(r, Record)]
    errors = [r for r in out if isinstance(r, ParseError)]
    assert len(records) + len(errors) == len(out)
    return records, errors


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize("filename", sorted(PAGE_IMPORTERS))
def test_each_sample_is_detected_by_its_own_importer(filename):
    head = sample(filename).read_text(encoding="utf-8")[: 64 * 1024]
    scores = {mod.NAME: mod.detect(head, "pasted.txt") for mod in PAGE_IMPORTERS.values()}
    owner = PAGE_IMPORTERS[filename].NAME
    assert scores[owner] >= 80, scores
    assert scores and all(score == 0 for name, score in scores.items() if name != owner), scores


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "2410.09918", "title": "Paper", "abstract": "Abstract: text"}\n',
        '[{"paper": {"id": "2410.09918", "title": "X", "upvotes": 2}}]',
        "@article{tian2024,\n  title = {Deja Vu},\n  eprint = {2410.09918},\n  abstract = {Abstract: x}\n}\n",
        "arxiv_id,abstract\n2406.09415,This work does not introduce a new method.\n",
        "TY  - JOUR\nAB  - Abstract: something\nER  - \n",
    ],
)
def test_page_importers_ignore_structured_formats(text):
    assert {mod.NAME: mod.detect(text, "file") for mod in PAGE_IMPORTERS.values()} == dict.fromkeys(
        (mod.NAME for mod in PAGE_IMPORTERS.values()), 0
    )


def test_names_match_modules():
    for mod in PAGE_IMPORTERS.values():
        assert mod.__name__.rsplit(".", 1)[1] == mod.NAME


# ---------------------------------------------------------------- arXiv author listing


def test_arxiv_listing_sample():
    records, errors = parse(page_arxiv_listing, sample("arxiv-author-listing.txt"))
    assert errors == []
    assert len(records) == 10
    first = records[0]
    assert first.ids == ["arxiv:2410.09918", "doi:10.48550/arxiv.2410.09918"]
    assert first.title is None
    assert first.abstract.startswith("In human cognition theory, human thinking is governed by two systems")
    assert first.dates == {"created": PartialDate(2024, 10, 13)}
    assert first.source.line == 1 and first.source.importer == "page_arxiv_listing"
    assert first.raw.splitlines()[-2:] == ["arXiv:2410.09918", "Created: 2024-10-13"]
    by_id = {r.ids[0]: r for r in records}
    assert by_id["arxiv:2409.20370"].comment == "submitted to conference"
    assert by_id["arxiv:2405.04669"].comment == "40 pages, 15 figures"
    assert by_id["arxiv:2405.04669"].dates["created"] == PartialDate(2024, 5, 7)
    assert by_id["arxiv:2410.01779"].comment is None
    assert "$" not in by_id["arxiv:2410.01779"].abstract  # "$L_2$ loss" -> "L₂ loss"
    assert "L₂ loss" in by_id["arxiv:2410.01779"].abstract
    assert by_id["arxiv:2407.11239"].links["code"] == ["https://github.com/VITA-Group/welore"]
    assert [r.source.line for r in records][:4] == [1, 6, 11, 18]


def test_arxiv_listing_bad_id_is_reported_and_neighbours_kept():
    records, errors = parse(page_arxiv_listing, DATA / "arxiv-listing-malformed.txt")
    assert [(e.line, "2410.O1779" in e.reason) for e in errors] == [(8, True)]
    assert [r.ids[0] for r in records] == ["arxiv:2410.09918", "arxiv:2409.20370", "arxiv:2405.04669"]
    no_abstract = records[1]
    assert no_abstract.abstract is None  # an id alone is still worth keeping
    assert no_abstract.ids == ["arxiv:2409.20370", "arxiv:2409.20370v2", "doi:10.48550/arxiv.2409.20370"]
    assert records[2].comment == "40 pages, 15 figures"
    assert records[2].source.line == 14


def test_arxiv_listing_text_without_id_at_end():
    text = "arXiv:2410.09918\nCreated: 2024-10-13\n\nShowing 1 of 1\n"
    records, errors = parse_text(page_arxiv_listing, text)
    assert len(records) == 1
    assert [(e.line, e.reason) for e in errors] == [(4, "text with no 'arXiv:' id line after it; skipped")]


def parse_text(module, text: str) -> tuple[list[Record], list[ParseError]]:
    out = list(module.parse(Source.from_text(text)))
    return [r for r in out if isinstance(r, Record)], [r for r in out if isinstance(r, ParseError)]


# ---------------------------------------------------------------- dataset viewer


def test_dataset_viewer_sample():
    records, errors = parse(page_dataset_viewer, sample("dataset-viewer-arxiv-abstracts.txt"))
    assert errors == []
    assert len(records) == 100
    assert records[0].ids == ["arxiv:2406.09415", "doi:10.48550/arxiv.2406.09415"]
    assert records[0].source.line == 9
    assert records[-1].ids[0] == "arxiv:2306.17806"
    assert records[-1].abstract.startswith("Classifier-Free Guidance (CFG) has recently emerged")
    assert records and all(r.abstract and r.title is None for r in records)
    by_id = {r.ids[0]: r for r in records}
    versioned = by_id["arxiv:2406.07522"]
    assert versioned.ids == ["arxiv:2406.07522", "arxiv:2406.07522v1", "doi:10.48550/arxiv.2406.07522"]
    assert "arxiv:1503.04069v2" in by_id["arxiv:1503.04069"].ids
    assert "arxiv:1312.5663" in by_id  # an old short-numbered id is a row, not a header statistic


def test_dataset_viewer_repairs_glued_words_and_keeps_raw():
    records, _ = parse(page_dataset_viewer, sample("dataset-viewer-arxiv-abstracts.txt"))
    titok = next(r for r in records if r.ids[0] == "arxiv:2406.07550")
    assert "we introduce Transformer-based 1-Dimensional" in titok.abstract
    assert "introduceTransformer" in titok.raw
    assert titok.raw.splitlines()[0] == "2406.07550"
    samba = next(r for r in records if r.ids[0] == "arxiv:2406.07522")
    assert "present Samba," in samba.abstract
    assert samba.links["code"] == ["https://github.com/microsoft/Samba"]


def test_dataset_viewer_bad_id_and_missing_abstract():
    records, errors = parse(page_dataset_viewer, DATA / "dataset-viewer-malformed.txt")
    assert [(e.line, "2406.O7550" in e.reason) for e in errors] == [(11, True)]
    assert [r.ids[0] for r in records] == [
        "arxiv:2406.09415",
        "arxiv:2405.18870",
        "arxiv:2406.07522",
        "arxiv:2310.01801",
        "arxiv:2406.08414",
    ]
    assert records[1].abstract is None  # a row whose abstract is missing keeps its id
    assert records[3].abstract.endswith("The rest of this abstract was pasted on its own line.")
    assert [r.source.line for r in records] == [9, 13, 14, 16, 20]


def test_dataset_viewer_with_a_title_column():
    text = (
        "arxiv_id\nstring\ntitle\nstringlengths\n12\n200\nabstract\nstringlengths\n431\n13.8k\n"
        "2410.09918v2\nDualformer: Fast and Slow Thinking\nWe proposeOutlier weighting for images.\n"
    )
    assert page_dataset_viewer.detect(text, "pasted") == 90
    records, errors = parse_text(page_dataset_viewer, text)
    assert errors == []
    [rec] = records
    assert rec.ids[:2] == ["arxiv:2410.09918", "arxiv:2410.09918v2"]
    assert rec.title == "Dualformer: Fast and Slow Thinking"
    assert rec.abstract == "We propose Outlier weighting for images."


def test_dataset_viewer_needs_its_header():
    records, errors = parse_text(page_dataset_viewer, "2406.09415\nSome abstract text here.\n")
    assert records == []
    assert errors[0].line == 1 and "header" in errors[0].reason
    assert page_dataset_viewer.detect("2406.09415\nSome abstract text here.\n", "x.txt") == 0


# ---------------------------------------------------------------- Hugging Face papers page


def test_hf_papers_sample():
    records, errors = parse(page_hf_papers, sample("hf-daily-papers-search.txt"))
    assert errors == []
    assert len(records) == 15
    titles = [r.title for r in records]
    assert (
        titles[0]
        == "EoRA: Training-free Compensation for Compressed LLM with Eigenspace Low-Rank Approximation"
    )
    assert titles[-1] == "Large Language Model Evaluation via Matrix Nuclear-Norm"
    assert not any(t in ("Daily Papers", "Dec 31", "Subscribe") for t in titles)
    eora = records[0]
    assert eora.source.line == 13
    assert eora.abstract.startswith("In this work, we re-formulate the model compression problem")
    assert eora.organisation == "NVIDIA"
    assert eora.dates == {"published": PartialDate(2024, 10, 28)}
    assert eora.upvotes == 2
    assert eora.author_count is None and eora.authors == []


def test_hf_papers_year_less_dates_author_counts_and_upvotes():
    records, _ = parse(page_hf_papers, sample("hf-daily-papers-search.txt"))
    by_title = {r.title.split(":")[0]: r for r in records}
    trust = by_title["Trust Region Preference Approximation"]
    assert trust.dates["published"] == PartialDate(None, 4, 6)
    assert trust.dates["published"].iso() == "--04-06"
    assert trust.upvotes is None
    assert trust.author_count == 10 and trust.authors_complete is False and trust.authors == []
    assert trust.organisation is None
    dq = by_title["DQ-LoRe"]
    assert dq.dates["published"] == PartialDate(2023, 10, 4) and dq.upvotes is None
    assert dq.author_count == 13
    assert dq.links["code"] == ["https://github.com/AI4fun/DQ-LoRe"]
    gear = by_title["GEAR"]
    assert gear.title.startswith("GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless")
    assert "Recipefor" in gear.raw
    assert gear.dates["published"] == PartialDate(2024, 3, 8) and gear.upvotes == 2
    assert not any(r.abstract_truncated for r in records)
    assert sum(r.upvotes == 2 for r in records) == 5


def test_hf_papers_missing_abstract_and_empty_entry():
    records, errors = parse(page_hf_papers, DATA / "hf-papers-malformed.txt")
    assert [(e.line, e.reason) for e in errors] == [(28, "paper entry without a title or abstract; skipped")]
    assert [r.title.split(":")[0] for r in records] == [
        "EoRA",
        "Trust Region Preference Approximation",
        "StreetMath",
    ]
    no_abstract = records[1]
    assert no_abstract.abstract is None
    assert no_abstract.author_count == 10
    assert no_abstract.source.line == 22
    assert records[2].dates["published"] == PartialDate(None, 10, 27)


def test_hf_papers_unknown_chrome_and_wrapped_abstract():
    text = (
        "Hugging Face\nModels Datasets Spaces\n\nTrending\n\nMy Title: A Study of Things\n\n"
        "We study things at length, with many words in the first half of this abstract that the\n"
        "paste wrapped onto a second line. Code: https://github.com/me/things.\n\n"
        "  • 2 authors\n·\nJan 5, 2025 7\n\n"
        "Second Paper\n\n" + "Word " * 40 + "\n\ngoogle Google\n·\nFeb 1\n"
    )
    records, errors = parse_text(page_hf_papers, text)
    assert errors == []
    assert [r.title for r in records] == ["My Title: A Study of Things", "Second Paper"]
    first = records[0]
    assert first.abstract.endswith(
        "that the paste wrapped onto a second line. Code: https://github.com/me/things."
    )
    assert first.links["code"] == ["https://github.com/me/things"]
    assert (first.upvotes, first.author_count, first.dates["published"]) == (7, 2, PartialDate(2025, 1, 5))
    assert first.source.line == 6 and first.raw.startswith("My Title") and first.extra == {}
    assert (records[1].organisation, records[1].extra["organisation_id"]) == ("Google", "google")
    assert records[1].dates["published"] == PartialDate(None, 2, 1)


# ---------------------------------------------------------------- author profile feed

# (title, first author) pairs read off the page by hand, including the hard boundaries
PROFILE_PAIRS = [
    ("Deja Vu: Contextual Sparsity for Efficient LLMs at Inference Time", "Zichang Liu"),
    ("A Cookbook of Self-Supervised Learning", "Randall Balestriero"),
    ("Denoised MDPs: Learning World Models Better Than the World Itself", "Tongzhou Wang"),
    ("Meta-Rewarding Language Models: Self-Improving Alignment with LLM-as-a-Meta-Judge", "Tianhao Wu"),
    (
        "From Low Rank Gradient Subspace Stabilization to Low-Rank Weights: Observations, Theories, "
        "and Applications",
        "Ajay Jaiswal",
    ),
    ("EurNet: Efficient Multi-Range Relational Modeling of Spatial Multi-Relational Data", "Minghao Xu"),
    ("Q-GaLore: Quantized GaLore with INT4 Projection and Layer-Adaptive Low-Rank Gradients", "Zhenyu Zhang"),
    ("The Perfect Blend: Redefining RLHF with Mixture of Judges", "Tengyu Xu"),
    ("You Only Use Reactive Attention Slice For Long Context Retrieval", "Yun Joon Soh"),
    ("Understanding the Role of Nonlinearity in Training Dynamics of Contrastive Learning", "Yuandong Tian"),
    ("AdvPrompter: Fast Adaptive Adversarial Prompting for LLMs", "Anselm Paulus"),
    ("End-to-end Story Plot Generator", "Hanlin Zhu"),
    ("MagicPIG: LSH Sampling for Efficient LLM Generation", "Zhuoming Chen"),
    ("Deep Think with Confidence", "Yichao Fu"),
    ("NaturalReasoning: Reasoning in the Wild with 2.8M Challenging Questions", "Weizhe Yuan"),
    (
        "Dualformer: Controllable Fast and Slow Thinking by Learning with Randomized Reasoning Traces",
        "DiJia Su",
    ),
    ("Neural Computers", "Mingchen Zhuge"),
    ("Towards a Theoretical Understanding of the 'Reversal Curse' via Training Dynamics", "Hanlin Zhu"),
    ("Examining Reasoning LLMs-as-Judges in Non-Verifiable LLM Post-Training", "Yixin Liu"),
    ("GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection", "Jiawei Zhao"),
    (
        "MobileLLM-R1: Exploring the Limits of Sub-Billion Language Model Reasoners with Open "
        "Training Recipes",
        "Changsheng Zhao",
    ),
    ("STEM: Scaling Transformers with Embedding Modules", "Ranajoy Sadhukhan"),
    ("MADE: Exploration via Maximizing Deviation from Explored Regions", "Tianjun Zhang"),
]  # fmt: skip


def profile_records() -> list[Record]:
    records, errors = parse(page_profile_feed, sample("author-profile-with-categories.txt"))
    assert errors == []
    return records


def test_profile_feed_every_record_parses():
    records = profile_records()
    assert len(records) == 50
    assert [r.source.line for r in records] == list(range(1, 150, 3))
    assert records and all(r.title and r.abstract and r.authors and r.categories for r in records)
    # every title line but one ends in "et al."; that one lists a single author
    incomplete = [r for r in records if not r.authors_complete]
    assert len(incomplete) == 49
    assert incomplete and all(len(r.authors) == 3 for r in incomplete)


def test_profile_feed_title_author_boundaries():
    got = {(r.title, r.authors[0].name) for r in profile_records()}
    missing = [pair for pair in PROFILE_PAIRS if pair not in got]
    assert missing == []


def test_profile_feed_authors_and_organisations():
    by_title = {r.title.split(":")[0]: r for r in profile_records()}
    dualformer = by_title["Dualformer"]
    assert [a.name for a in dualformer.authors] == ["DiJia Su", "Sainbayar Sukhbaatar", "Michael Rabbat"]
    assert dualformer.organisation == "meta-ai"
    denoised = by_title["Denoised MDPs"]
    assert [a.name for a in denoised.authors] == ["Tongzhou Wang", "Simon S. Du", "Antonio Torralba"]
    assert denoised.organisation == "mit"
    rlcd = by_title["RLCD"]
    assert rlcd.organisation == "berkeley, meta-ai"
    assert rlcd.extra["organisations"] == ["berkeley", "meta-ai"]
    single = by_title["Understanding the Role of Nonlinearity in Training Dynamics of Contrastive Learning"]
    assert [a.name for a in single.authors] == ["Yuandong Tian"] and single.authors_complete
    assert by_title["Deja Vu"].organisation == "eth-zurich"
    assert by_title["AdvPrompter"].organisation is None
    assert sum(bool(r.organisation) for r in by_title.values()) == 10


def test_profile_feed_badges():
    records = profile_records()
    deja = records[0]
    assert deja.categories == ["cs.LG"]
    assert deja.dates == {"published": PartialDate(2023, 10, 26)}
    assert deja.extra["has_code"] is True
    assert deja.links["code"] == ["https://github.com/FMInference/DejaVu"]
    assert deja.score is None
    neural = next(r for r in records if r.title == "Neural Computers")
    assert neural.score == 69.9 and neural.categories == ["cs.LG"]
    assert neural.dates["published"] == PartialDate(None, 4, 7)
    assert "has_code" not in neural.extra
    judges = next(r for r in records if r.title.startswith("Examining Reasoning"))
    assert judges.score == 82.0 and judges.categories == ["cs.AI"]
    assert judges.dates["published"].iso() == "--03-12"
    cats = {r.categories[0] for r in records}
    assert cats == {"cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.PL", "cs.CR"}
    assert sum(bool(r.extra.get("has_code")) for r in records) == 21


def test_profile_feed_latex_in_title_and_abstract():
    h2o = next(r for r in profile_records() if r.title.startswith("H"))
    assert h2o.title == "H₂O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models"
    assert h2o.raw.splitlines()[1].startswith("H$_2$O: Heavy-Hitter Oracle")
    surco = next(r for r in profile_records() if r.title.startswith("SurCo"))
    assert "$\\textbf" not in surco.abstract and "SurCo" in surco.abstract


def test_profile_feed_malformed_lines_are_reported():
    records, errors = parse(page_profile_feed, DATA / "profile-feed-malformed.txt")
    assert [e.line for e in errors] == [1, 7, 12]
    assert "before the first paper badge" in errors[0].reason
    assert "cannot tell the title from the authors" in errors[1].reason
    assert [r.title.split(":")[0] for r in records] == [
        "Deja Vu",
        "H₂O",
        "Neural Computers",
        "Examining Reasoning LLMs-as-Judges in Non-Verifiable LLM Post-Training",
    ]
    no_abstract = records[2]
    assert no_abstract.abstract is None and no_abstract.authors[0].name == "Mingchen Zhuge"
    assert [r.source.line for r in records] == [3, 8, 14, 16]


@pytest.mark.parametrize(
    ("line", "title", "authors"),
    [
        ("Scaling Laws for LLMWang Li, Jo Smith", "Scaling Laws for LLM", ["Wang Li", "Jo Smith"]),
        ("A Study (Revisited)Mary-Jane O'Neil", "A Study (Revisited)", ["Mary-Jane O'Neil"]),
        ("Is Attention Enough?Ludwig van Beethoven et al.", "Is Attention Enough?", ["Ludwig van Beethoven"]),
        ("Learning in 3DJ. R. Smith, Ann Lee", "Learning in 3D", ["J. R. Smith", "Ann Lee"]),
    ],
)
def test_glued_splitter_on_other_shapes(line, title, authors):
    split = _glued.split_title_authors(line)
    assert split is not None
    assert (split.title, split.authors) == (title, authors)


@pytest.mark.parametrize(
    "line",
    ["Attention Is All You Need", "A Study ofJohn Smith", "Neural Scaling Laws: 2024 EditionIn", ""],
)
def test_glued_splitter_refuses_to_guess(line):
    assert _glued.split_title_authors(line) is None


def test_known_names_decide_an_ambiguous_boundary():
    # "GaLore|Zhenyu Zhang" versus "Ga|LoreZhenyu Zhang": both read as names, the page knows which is real
    line = "Quantized GaLoreZhenyu Zhang, Lu Yin"
    assert _glued.split_title_authors(line, {"Zhenyu Zhang"}).title == "Quantized GaLore"
    # only names standing alone after a comma count; the piece glued to the title never does
    lines = [
        "A Title about ThingsAnn Lee, Zhenyu Zhang, Lu Yin et al.",
        "Neural ComputersMingchen Zhuge, Jo Li",
    ]
    assert _glued.confident_names(lines) == {"Zhenyu Zhang", "Lu Yin", "Jo Li"}


# ---------------------------------------------------------------- abstract list


def test_abstract_list_sample():
    records, errors = parse(page_abstract_list, sample("abstract-list.txt"))
    assert errors == []
    assert len(records) == 10
    assert [r.source.line for r in records] == list(range(1, 11))
    assert records and all(r.ids == [] and r.title is None for r in records)
    assert records[0].abstract.startswith("Large language models (LLMs) have revolutionized natural language")
    assert not records[0].abstract.startswith("Abstract")
    assert records[0].raw.startswith("Abstract:Large language models")
    assert records[-1].abstract.endswith(
        "consistently outperforms the baselines methods in various benchmarks."
    )


def test_abstract_list_malformed():
    assert page_abstract_list.detect((DATA / "abstract-list-malformed.txt").read_text(), "notes.txt") == 60
    records, errors = parse(page_abstract_list, DATA / "abstract-list-malformed.txt")
    assert [(e.line, e.reason) for e in errors] == [
        (1, "text before the first 'Abstract:' line; skipped"),
        (3, "'Abstract:' line with no text; skipped"),
    ]
    assert [r.source.line for r in records] == [2, 4, 6]
    wrapped = records[1]
    assert wrapped.abstract.endswith(
        "We propose a cache that halves memory use; code at https://github.com/example/cache."
    )
    assert wrapped.links["code"] == ["https://github.com/example/cache"]
    assert records[2].abstract_truncated is True
    assert records[0].abstract_truncated is False
