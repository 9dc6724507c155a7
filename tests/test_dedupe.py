"""Matching and merging: true merges across sources, and the false-merge traps."""

from __future__ import annotations

from paperradar.ingest import ImportReport, ingest_records
from paperradar.models import Author, PartialDate, Record, SourceRef
from paperradar.papers import get_paper, list_papers

GALORE_ABS = (
    "Training Large Language Models (LLMs) presents significant memory challenges, predominantly due to the "
    "growing size of weights and optimizer states. Common memory-reduction approaches, such as low-rank "
    "adaptation (LoRA), add a trainable low-rank matrix to the frozen pre-trained weight in each layer, "
    "reducing trainable parameters and optimizer states. In this work, we propose Gradient Low-Rank "
    "Projection (GaLore), a training strategy that allows full-parameter learning but is more memory-efficient."
)
QGALORE_ABS = (
    "Training Large Language Models (LLMs) is memory-intensive due to the large number of parameters and "
    "associated optimization states. GaLore, a recent method, reduces memory usage by projecting weight "
    "gradients into a low-rank subspace without compromising performance. However, GaLore relies on "
    "time-consuming SVD operations. We introduce Q-GaLore, which combines quantization and low-rank projection."
)
GALORE2_ABS = (
    "Large language models (LLMs) have revolutionized natural language understanding and generation but face "
    "significant memory bottlenecks during training. GaLore, Gradient Low-Rank Projection, addresses this issue "
    "by leveraging the inherent low-rank structure of weight gradients. In this paper, we present GaLore 2, an "
    "efficient and scalable GaLore framework that addresses these challenges."
)
WELORE_ABS = (
    "Modern Large Language Models (LLMs) are composed of matrices with billions of elements, making their "
    "storage and processing quite demanding in terms of computational resources and memory usage. We present "
    "WeLore, which unifies weight compression and memory-efficient fine-tuning as ONE, through low-rank "
    "gradient subspace observations in a data-agnostic and one-shot way."
)


def rec(importer: str, line: int = 1, **kw) -> Record:
    return Record(source=SourceRef(importer, f"{importer}.txt", line), **kw)


def ingest(lib, *records: Record) -> ImportReport:
    report = ImportReport("test", "test")
    ingest_records(lib, records, report)
    return report


def test_same_arxiv_id_in_two_forms_is_one_paper(lib):
    a = rec("arxiv_atom", ids=["arxiv:2403.03507", "arxiv:2403.03507v2"], title="GaLore", abstract=GALORE_ABS)
    b = rec("bibtex", ids=["arxiv:2403.03507"], title="GaLore: Memory-Efficient LLM Training", venue="ICML")
    report = ingest(lib, a, b)
    assert (report.new, report.merged) == (1, 1)
    paper = get_paper(lib, "2403.03507v2")
    assert paper.id == "arxiv:2403.03507"
    assert len(paper.sources) == 2
    assert paper.venue == "ICML"  # only the BibTeX record said it, and it is kept


def test_glued_title_copy_merges_with_spaced_title_when_authors_agree(lib):
    a = rec(
        "page_profile_feed",
        title="GEAR: An Efficient KV Cache Compression Recipefor Near-Lossless Inference",
        authors=[Author("Hao Kang")],
        authors_complete=False,
    )
    b = rec(
        "arxiv_atom",
        ids=["arxiv:2403.05527"],
        title="GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless Inference",
        authors=[Author("Hao Kang"), Author("Qingru Zhang")],
    )
    assert ingest(lib, a, b).merged == 1
    paper = get_paper(lib, "arxiv:2403.05527")
    assert paper.title == "GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless Inference"
    assert [a.name for a in paper.authors] == ["Hao Kang", "Qingru Zhang"]  # the complete list wins
    assert paper.authors_complete


def test_same_title_different_authors_is_two_papers(lib):
    a = rec("bibtex", title="Attention Is All You Need", authors=[Author("Ashish Vaswani")])
    b = rec("bibtex", line=9, title="Attention is all you need", authors=[Author("Someone Else")])
    assert ingest(lib, a, b).new == 2


def test_same_title_years_apart_is_two_papers(lib):
    a = rec("ris", title="A Survey of Large Language Models for Code", dates={"published": PartialDate(2021)})
    b = rec(
        "ris",
        line=20,
        title="A Survey of Large Language Models for Code",
        dates={"published": PartialDate(2025)},
    )
    assert ingest(lib, a, b).new == 2


def test_galore_family_is_four_papers(lib):
    records = [
        rec("page_abstract_list", 1, abstract=GALORE2_ABS),
        rec(
            "page_profile_feed",
            1,
            title="GaLore: Memory-Efficient LLM Training by Gradient Low-Rank Projection",
            abstract=GALORE_ABS,
            authors=[Author("Jiawei Zhao")],
        ),
        rec(
            "page_profile_feed",
            4,
            title="Q-GaLore: Quantized GaLore with INT4 Projection",
            abstract=QGALORE_ABS,
            authors=[Author("Zhenyu Zhang")],
        ),
        rec("page_abstract_list", 3, abstract=WELORE_ABS),
        rec("page_dataset_viewer", 5, ids=["arxiv:2407.11239"], abstract=WELORE_ABS.replace("ONE", "one")),
    ]
    report = ingest(lib, *records)
    assert report.new == 4, "GaLore, Q-GaLore, GaLore 2 and WeLore are four papers"
    assert report.merged == 1  # the two WeLore abstracts are one paper


def test_truncated_abstract_matches_its_full_version_and_full_one_is_chosen(lib):
    full = rec("page_arxiv_listing", ids=["arxiv:2407.08296"], abstract=QGALORE_ABS)
    cut = rec(
        "page_hf_papers",
        title="Q-GaLore: Quantized GaLore with INT4 Projection",
        abstract=QGALORE_ABS[:260] + "…",
        abstract_truncated=True,
        upvotes=31,
    )
    report = ingest(lib, cut, full)
    assert (report.new, report.merged) == (1, 1)
    paper = get_paper(lib, "2407.08296")
    assert paper.abstract == QGALORE_ABS
    assert paper.title.startswith("Q-GaLore") and paper.upvotes == 31


def test_glued_words_do_not_stop_an_abstract_match(lib):
    glued = GALORE_ABS.replace("low-rank adaptation (LoRA), add", "low-rankadaptation(LoRA),add")
    report = ingest(
        lib,
        rec("page_dataset_viewer", ids=["arxiv:2403.03507"], abstract=glued),
        rec("page_abstract_list", abstract=GALORE_ABS),
    )
    assert report.merged == 1


def test_year_less_date_never_replaces_a_full_one(lib):
    a = rec(
        "page_profile_feed",
        title="Neural Computers for Everyone",
        dates={"published": PartialDate(None, 4, 7)},
        authors=[Author("Mingchen Zhuge")],
    )
    b = rec(
        "arxiv_atom",
        ids=["arxiv:2604.01234"],
        title="Neural Computers for Everyone",
        dates={"published": PartialDate(2026, 4, 7)},
        authors=[Author("Mingchen Zhuge")],
    )
    ingest(lib, a, b)
    assert get_paper(lib, "2604.01234").dates["published"].iso() == "2026-04-07"
    alone = rec(
        "page_profile_feed",
        title="Another Paper Entirely Different",
        dates={"published": PartialDate(None, 4, 7)},
    )
    ingest(lib, alone)
    p = [p for p in list_papers(lib, None) if p.title == "Another Paper Entirely Different"][0]
    assert p.dates["published"].iso() == "--04-07" and p.year is None


def test_record_bridging_two_ids_finds_the_paper(lib):
    ingest(
        lib, rec("bibtex", ids=["doi:10.1000/xyz"], title="Some Paper About Things", authors=[Author("A B")])
    )
    report = ingest(
        lib, rec("arxiv_atom", ids=["arxiv:2401.00001", "doi:10.1000/xyz"], title="Some Paper About Things")
    )
    assert report.merged == 1
    assert get_paper(lib, "arxiv:2401.00001").id == "arxiv:2401.00001"
    assert get_paper(lib, "10.1000/XYZ").id == "arxiv:2401.00001"


def test_different_arxiv_ids_with_same_title_stay_apart(lib):
    a = rec("arxiv_atom", ids=["arxiv:2401.00001"], title="Workshop Report on Large Language Models")
    b = rec("arxiv_atom", ids=["arxiv:2501.00002"], title="Workshop Report on Large Language Models")
    assert ingest(lib, a, b).new == 2


def test_a_shared_doi_with_clearly_different_titles_is_reported_not_merged(lib):
    """A wrong DOI pasted into one bibliography entry must not fuse two papers."""
    report = ingest(
        lib,
        rec(
            "bibtex",
            1,
            ids=["doi:10.1109/msp.2004.81"],
            title="Signal processing for sensor networks",
            authors=[Author("Ana Lopez")],
            dates={"published": PartialDate(2004)},
        ),
        rec(
            "bibtex",
            9,
            ids=["doi:10.1109/msp.2004.81"],
            title="Protein folding kinetics under crowding",
            authors=[Author("Bo Chen")],
            dates={"published": PartialDate(2019)},
        ),
    )
    assert report.new == 2 and report.merged == 0 and len(list_papers(lib, None)) == 2
    [conflict] = report.conflicts
    assert conflict.line == 9 and "doi:10.1109/msp.2004.81" in conflict.reason
    # the DOI keeps pointing at the paper that had it first
    assert get_paper(lib, "doi:10.1109/msp.2004.81").title == "Signal processing for sensor networks"
    assert report.as_json()["conflicts"][0]["line"] == 9


def test_a_shared_doi_with_a_shortened_title_still_merges(lib):
    report = ingest(
        lib,
        rec("bibtex", 1, ids=["doi:10.1/galore"], title="GaLore"),
        rec(
            "ris",
            1,
            ids=["doi:10.1/galore"],
            title="GaLore: Memory-Efficient LLM Training by Gradient Low-Rank",
        ),
    )
    assert report.merged == 1 and not report.conflicts


def test_one_import_gives_the_same_papers_however_long_its_files_take(tmp_path, monkeypatch):
    """Two records of one paper from two files of one import, ranked the same: which one gives the
    abstract must not depend on the clock second each chunk was parsed in (it did: a library
    imported twice from examples/ could hold another abstract, and so another vector)."""
    import itertools

    from conftest import EXAMPLES
    from paperradar import imports, ingest
    from paperradar.ingest import parse
    from paperradar.ingest.rows import now_iso
    from paperradar.storage import open_library

    def papers_after_import(name: str, clock) -> list[tuple]:
        for module in (imports, ingest, parse):
            monkeypatch.setattr(module, "now_iso", clock)
        lib = open_library(tmp_path / name)
        imports.import_sources(lib, [ingest.Source.from_file(p) for p in ingest.expand_paths([EXAMPLES])])
        rows = lib.conn.execute("SELECT id, title, abstract, authors FROM papers ORDER BY id").fetchall()
        lib.close()
        return [tuple(r) for r in rows]

    ticks = (f"2026-12-02T10:{m // 60:02d}:{m % 60:02d}+00:00" for m in itertools.count())
    slow = papers_after_import("slow.db", lambda: next(ticks))  # every chunk and file a second apart
    fixed = now_iso()
    quick = papers_after_import("quick.db", lambda: fixed)  # everything in one second
    assert len(slow) > 50 and slow == quick
