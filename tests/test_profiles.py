"""Profiles: from an author name (with people told apart), from id lists and BibTeX files; their
interests; feedback and undo."""

from __future__ import annotations

import random

import pytest

from conftest import EXAMPLES
from paperradar import paper_refs
from paperradar import profiles as P
from paperradar.authors import AmbiguousAuthor, author_candidates
from paperradar.errors import InvalidInput, NotFound
from paperradar.importers.base import Source
from paperradar.ingest import ImportReport, import_source, ingest_records
from paperradar.interests import positives_and_negatives
from paperradar.models import Author, PartialDate, Record, SourceRef
from paperradar.papers import get_paper

TOPICS = {
    "proteins": "protein folding amino acid residue structure prediction enzyme binding molecular dynamics peptide",
    "graphs": "graph neural network message passing node embedding edge link prediction spectral convolution",
    "galaxies": "galaxy cluster redshift telescope dark matter halo stellar emission cosmological survey",
    "compilers": "compiler optimization register allocation loop unrolling intermediate representation bytecode",
    "robots": "robot manipulation grasping trajectory planning actuator gripper locomotion control policy",
}


def paper_text(topic: str, seed: int, extra: str = "") -> tuple[str, str]:
    """A title and abstract drawn from one topic's words (reproducible from the seed)."""
    rng = random.Random(f"{topic}-{seed}")
    words = TOPICS[topic].split()
    title = " ".join(rng.sample(words, 4)).capitalize() + f" study {seed}"
    body = " ".join(rng.choice(words) for _ in range(40))
    return title, f"We study {body}. {extra}".strip()


def make_papers(
    lib, specs: list[tuple[str, int, list[str], list[str]]], day: str = "2024-10-01"
) -> list[int]:
    """Add papers (topic, seed, authors, categories) to the library; returns their pks in order."""
    records = []
    for n, (topic, seed, authors, cats) in enumerate(specs):
        title, abstract = paper_text(topic, seed)
        records.append(
            Record(
                source=SourceRef("test", "made-up", n + 1),
                ids=[f"doi:10.9999/{topic}.{seed}"],
                title=title,
                abstract=abstract,
                authors=[Author(a) for a in authors],
                categories=cats,
                dates={"published": PartialDate.from_iso(day)},
            )
        )
    ingest_records(lib, records, ImportReport("made-up", "test"))
    return [lib.resolve(r.ids[0]) for r in records]


@pytest.fixture
def demo(lib):
    for f in sorted(EXAMPLES.iterdir()):
        import_source(lib, Source.from_file(f))
    return lib


def test_profile_from_an_author_in_the_demo_library(demo):
    profile = P.create_profile(demo, "yt", author="Yuandong Tian")
    assert len(profile.papers) == 9  # one person, though co-authors vary from paper to paper
    for pid in profile.papers:
        assert "Yuandong Tian" in [a.name for a in get_paper(demo, pid).authors]
    in_interests = [pid for it in profile.interests for pid in it.papers]
    assert sorted(in_interests) == sorted(profile.papers)  # every paper in exactly one interest
    assert profile.interests and all(it.name and it.terms for it in profile.interests)
    assert P.get_profile(demo, "YT").name == "yt"  # names are case-insensitive
    with pytest.raises(InvalidInput, match="exists already"):
        P.create_profile(demo, "yt", author="Yuandong Tian")


def test_one_name_two_people_are_told_apart(lib):
    bio = [("proteins", i, ["Wei Wang", "Ana Ruiz", f"Coauthor {i}"], ["q-bio.BM"]) for i in range(4)]
    ml = [("graphs", i, ["W. Wang", "Li Chen", "Omar Said"], ["cs.LG"]) for i in range(3)]
    other = [("graphs", 9, ["Wen Wang", "Li Chen"], ["cs.LG"])]  # another given name: not a match
    pks = make_papers(lib, bio + ml + other)
    cands = author_candidates(lib, "Wei Wang")
    assert [len(c.papers) for c in cands] == [4, 3]
    assert set(cands[0].paper_pks) == set(pks[:4]) and set(cands[1].paper_pks) == set(pks[4:7])
    assert "Ana Ruiz" in cands[0].coauthors and "Li Chen" in cands[1].coauthors
    assert cands[0].categories == ["q-bio.BM"] and cands[1].categories == ["cs.LG"]
    with pytest.raises(AmbiguousAuthor, match="--pick") as info:
        P.create_profile(lib, "ww", author="Wei Wang")
    assert len(info.value.candidates) == 2
    picked = P.create_profile(lib, "ww", author="Wei Wang", pick=2)
    assert sorted(picked.paper_pks) == sorted(pks[4:7])
    with pytest.raises(InvalidInput, match="between 1 and 2"):
        P.create_profile(lib, "ww2", author="Wei Wang", pick=3)
    with pytest.raises(NotFound, match="no papers by"):
        P.create_profile(lib, "nobody", author="Nobody Atall")


def test_profile_from_a_bibtex_file_imports_new_papers(demo, tmp_path):
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{dualformer, title={Dualformer: Controllable Fast and Slow Thinking by Learning with"
        " Randomized Reasoning Traces}, author={Su, DiJia and Tian, Yuandong}, year={2024},"
        " eprint={2410.09918}, archivePrefix={arXiv}}\n"
        "@inproceedings{new, title={A Paper Nobody Imported Before}, author={Doe, Jane}, year={2023},"
        " doi={10.1234/brand.new}}\n"
    )
    before = demo.counts()["papers"]
    pks, report = paper_refs.papers_in_file(demo, bib)
    assert report is not None and report.importer == "bibtex"
    assert demo.counts()["papers"] == before + 1  # Dualformer matched the library's copy
    profile = P.create_profile(demo, "mine", papers=pks)
    assert demo.resolve("arxiv:2410.09918") in profile.paper_pks
    assert demo.resolve("doi:10.1234/brand.new") in profile.paper_pks


def test_profile_from_a_list_of_ids(demo, tmp_path):
    listed = tmp_path / "ids.txt"
    listed.write_text("# my papers\narxiv:2410.09918\n2410.01779\n")
    pks, report = paper_refs.papers_in_file(demo, listed)
    assert report is None and pks == [demo.resolve("2410.09918"), demo.resolve("2410.01779")]
    listed.write_text("2410.09918\n2501.99999\n")
    with pytest.raises(NotFound, match="2501.99999"):
        paper_refs.papers_in_file(demo, listed)


def test_interests_keep_distinct_topics_apart(lib):
    pks = make_papers(
        lib,
        [("proteins", i, ["A B"], []) for i in range(5)] + [("galaxies", i, ["A B"], []) for i in range(5)],
    )
    make_papers(lib, [(t, 100 + i, ["X Y"], []) for t in ("compilers", "robots") for i in range(10)])
    profile = P.create_profile(lib, "two", papers=pks)
    assert len(profile.interests) == 2
    groups = sorted(sorted(lib.resolve(i) for i in it.papers) for it in profile.interests)
    assert groups == [pks[:5], pks[5:]]
    names = " ".join(it.name for it in profile.interests)
    assert any(w in names for w in TOPICS["proteins"].split())
    assert any(w in names for w in TOPICS["galaxies"].split())


def test_feedback_undo_add_remove(demo):
    P.create_profile(demo, "me", papers=["2410.09918"])
    P.give_feedback(demo, "me", "2410.01779", "like")
    P.give_feedback(demo, "me", "2409.20370", "not-interested")
    profile = P.get_profile(demo, "me")
    assert [(f.kind, f.paper) for f in profile.feedback] == [
        ("like", "arxiv:2410.01779"),
        ("not_interested", "arxiv:2409.20370"),
    ]
    positives, negatives = positives_and_negatives(demo, profile.pk)
    assert demo.resolve("2410.01779") in positives and negatives == [demo.resolve("2409.20370")]
    undone = P.undo_feedback(demo, "me")
    assert undone is not None and undone.kind == "not_interested"
    assert [f.kind for f in P.get_profile(demo, "me").feedback] == ["like"]
    with pytest.raises(InvalidInput, match="feedback must be"):
        P.give_feedback(demo, "me", "2410.01779", "love")
    P.add_papers(demo, "me", ["2409.13695"])
    assert len(P.remove_papers(demo, "me", ["2410.09918"]).papers) == 1
    P.delete_profile(demo, "me")
    with pytest.raises(NotFound):
        P.get_profile(demo, "me")
    assert get_paper(demo, "2410.09918").title  # the papers stay in the library


def test_names_and_the_stored_row_are_read_without_loading_the_profiles(demo):
    P.create_profile(demo, "Reading", papers=["2410.09918"])
    P.create_profile(demo, "attention", papers=["2410.01779"])
    P.give_feedback(demo, "Reading", "2409.20370", "like")
    assert P.profile_names(demo) == ["attention", "Reading"]  # sorted without regard to case
    row = P.find_profile(demo, "READING")  # a name matches without regard to case
    assert row.name == "Reading" and row.pk == P.get_profile(demo, "reading").pk
    assert [p for i in row.interests for p in i.papers] == ["arxiv:2410.09918"]  # the like regroups later
    with pytest.raises(NotFound, match="no profile named 'nobody'"):
        P.find_profile(demo, "nobody")


def test_merging_and_rebuilding_keep_the_researchers_profile_and_feedback(tmp_path):
    """Merging two papers moves the profile's links and feedback to the paper that stays; `papers
    rebuild` (every paper made again) keeps profiles, feedback and seen marks."""
    from paperradar.papers import merge_papers, rebuild
    from paperradar.storage import open_library

    path = tmp_path / "lib.db"
    lib = open_library(path)
    a, b, c, d = make_papers(
        lib, [("graphs", 1, ["Ann Lee"], ["cs.LG"]), ("graphs", 2, ["Ann Lee"], ["cs.LG"]),
              ("robots", 3, ["Bo Chan"], ["cs.RO"]), ("robots", 4, ["Bo Chan"], ["cs.RO"])]
    )  # fmt: skip
    ids = {pk: lib.paper_row(pk).id for pk in (a, b, c, d)}
    P.create_profile(lib, "me", papers=[ids[a], ids[b]])
    P.give_feedback(lib, "me", ids[c], "not_interested")
    P.mark_seen(lib, "me", [d])
    merge_papers(lib, ids[a], ids[b])  # the user says a and b are one paper
    me = P.get_profile(lib, "me")
    assert me.papers == [ids[a]] and [f.kind for f in me.feedback] == ["not_interested"]
    seen_before = me.seen  # d, and c (dismissed papers count as seen)
    assert seen_before == 2
    report = rebuild(lib)
    assert report["user_rows_kept"]["profile_papers"] == 1 and report["user_rows_kept"]["feedback"] == 1
    lib.close()
    lib = open_library(path)
    me = P.get_profile(lib, "me")
    assert get_paper(lib, me.papers[0]).title == get_paper(lib, ids[a]).title
    assert [(get_paper(lib, f.paper).title, f.kind) for f in me.feedback] == [
        (paper_text("robots", 3)[0], "not_interested")
    ]
    assert me.seen == seen_before
    lib.close()


def test_a_common_name_chained_by_a_shared_coauthor_still_gives_several_people(lib):
    """Issue 15: "Wei Wang" gave one candidate with 71 papers from image restoration to network
    alignment. A group bigger than any one researcher's output is split by topic."""
    bio = [("proteins", i, ["Wei Wang", "Li Chen"], ["cs.LG"]) for i in range(25)]
    sys_ = [("compilers", i, ["Wei Wang", "Li Chen"], ["cs.LG"]) for i in range(20)]
    pks = make_papers(lib, bio + sys_)
    cands = author_candidates(lib, "Wei Wang")
    assert len(cands) >= 2
    assert {frozenset(c.paper_pks) for c in cands[:2]} == {frozenset(pks[:25]), frozenset(pks[25:])}
    with pytest.raises(AmbiguousAuthor):
        P.create_profile(lib, "ww", author="Wei Wang")
