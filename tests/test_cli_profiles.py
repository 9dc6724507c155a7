"""`paperradar profile ...` and `paperradar recommend`: the commands and their --json shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES
from test_profiles import make_papers

PAPERRADAR = Path(sys.executable).parent / "paperradar"


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_profile_from_author_then_explained_recommendations(cli):
    assert cli("import", str(EXAMPLES)).exit_code == 0
    made = as_json(cli("profile", "create", "yt", "--author", "Yuandong Tian", "--json"))
    assert made["name"] == "yt" and len(made["papers"]) == 9 and made["interests"]
    assert as_json(cli("profile", "list", "--json"))[0]["name"] == "yt"
    shown = cli("profile", "show", "yt")
    assert shown.exit_code == 0 and "interest 1:" in shown.stdout
    recs = as_json(cli("recommend", "yt", "--limit", "5", "--json"))
    assert len(recs) == 5
    for r in recs:
        assert {"id", "ids", "title", "score", "reasons"} <= set(r) and r["reasons"]
        assert r["id"] not in made["papers"]
    text = cli("recommend", "yt", "--since", "2000", "--limit", "3", "--no-mark")
    assert text.exit_code == 0 and "close to your paper" in text.stdout
    again = as_json(cli("recommend", "yt", "--since", "2000", "--limit", "100", "--json"))
    assert not {r["id"] for r in recs} & {r["id"] for r in again}  # seen: never twice


def test_among_ranks_exactly_a_file_and_reports_every_alias(cli, tmp_path):
    assert cli("import", str(EXAMPLES)).exit_code == 0
    assert cli("profile", "create", "me", "--author", "Yuandong Tian").exit_code == 0
    bib = tmp_path / "list.bib"
    bib.write_text(
        "@article{a, title={Dualformer: Controllable Fast and Slow Thinking by Learning with Randomized"
        " Reasoning Traces}, author={Su, DiJia}, year={2024}, eprint={2410.09918}, doi={10.5555/dualformer.x}}\n"
        "@article{b, title={Completely New Paper About Protein Folding}, author={Doe, Jane}, year={2024},"
        " doi={10.5555/new.one}}\n"
    )
    recs = as_json(cli("recommend", "me", "--among", str(bib), "--limit", "10", "--json"))
    assert len(recs) == 2
    by_doi = {i: r for r in recs for i in r["ids"]}
    assert (
        "doi:10.5555/dualformer.x" in by_doi
        and "arxiv:2410.09918" in by_doi["doi:10.5555/dualformer.x"]["ids"]
    )
    assert "doi:10.5555/new.one" in by_doi
    assert recs[0]["ids"] == by_doi["doi:10.5555/dualformer.x"]["ids"]  # the on-topic one first
    assert recs[0]["score"] > recs[1]["score"]
    page = as_json(cli("recommend", "me", "--among", str(EXAMPLES / "hf-daily-papers-search.txt"), "--json"))
    assert len(page) == 15 and all(r["reasons"] for r in page)  # a pasted page of 15 papers, all ranked


def test_feedback_commands_and_dismissed_papers(cli):
    assert cli("import", str(EXAMPLES)).exit_code == 0
    assert cli("profile", "create", "me", "--author", "Yuandong Tian").exit_code == 0
    pool = EXAMPLES / "hf-daily-papers-search.txt"
    first = as_json(cli("recommend", "me", "--among", str(pool), "--json", "--no-mark"))
    top = first[0]["id"]
    assert as_json(cli("profile", "not-interested", "me", top, "--json"))["kind"] == "not_interested"
    after = as_json(cli("recommend", "me", "--among", str(pool), "--json", "--no-mark"))
    assert top not in {r["id"] for r in after} and len(after) == len(first) - 1
    assert as_json(cli("profile", "undo", "me", "--json"))["undone"]["paper"] == top
    assert as_json(cli("profile", "like", "me", first[-1]["id"], "--json"))["kind"] == "like"
    assert as_json(cli("profile", "dislike", "me", first[1]["id"], "--json"))["kind"] == "dislike"
    shown = as_json(cli("profile", "show", "me", "--json"))
    assert [f["kind"] for f in shown["feedback"]] == ["like", "dislike"]
    assert cli("profile", "delete", "me").exit_code == 0
    assert as_json(cli("profile", "list", "--json")) == []


def test_ambiguous_author_lists_people_and_exits_1(db_path, lib):
    from paperradar.storage import open_library

    other = open_library(db_path)
    make_papers(other, [("proteins", i, ["Wei Wang", "Ana Ruiz"], ["q-bio.BM"]) for i in range(3)])
    make_papers(other, [("graphs", i, ["Wei Wang", "Li Chen"], ["cs.LG"]) for i in range(2)])
    other.close()
    run = [str(PAPERRADAR), "--db", db_path, "profile", "create", "ww", "--author", "Wei Wang"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "matches 2 different people" in done.stderr and "--pick" in done.stderr
    assert "1. Wei Wang: 3 papers" in done.stderr and "Ana Ruiz" in done.stderr
    assert "2. Wei Wang: 2 papers" in done.stderr and "Li Chen" in done.stderr
    listed = subprocess.run([*run, "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 1 and len(json.loads(listed.stdout)["candidates"]) == 2
    picked = subprocess.run(
        [*run, "--pick", "2", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert picked.returncode == 0 and len(json.loads(picked.stdout)["papers"]) == 2
