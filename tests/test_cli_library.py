"""The library through the command line: import reports, stats, list, show, export, and the
user's corrections (merge, split) surviving re-imports and rebuilds.

Uses the five sample pages copied in examples/. Does I/O (temporary libraries, subprocesses).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import EXAMPLES, REPO
from paperradar.cli import app, imports, papers  # noqa: F401  (registers the commands)
from paperradar.storage import open_library

PAPERRADAR = REPO / ".venv" / "bin" / "paperradar"

# Per page, counted by reading it: 10 "Abstract:" blocks; 10 "arXiv:" id lines; 50 three-line
# entries; 100 id/abstract pairs; 15 paper cards. The profile page shows 7 papers of the listing
# and NaturalReasoning from the abstract list, so imported in this (folder) order it merges 8.
EXPECTED = [
    ("abstract-list.txt", "page_abstract_list", 10, 10, 0),
    ("arxiv-author-listing.txt", "page_arxiv_listing", 10, 10, 0),
    ("author-profile-with-categories.txt", "page_profile_feed", 50, 42, 8),
    ("dataset-viewer-arxiv-abstracts.txt", "page_dataset_viewer", 100, 100, 0),
    ("hf-daily-papers-search.txt", "page_hf_papers", 15, 15, 0),
]
DUALFORMER = "Dualformer: Controllable Fast and Slow Thinking by Learning with Randomized Reasoning Traces"


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def run_json(db: Path, *args: str):
    return json.loads(run(db, *args, "--json").stdout)


def real(db: Path | None, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `paperradar` command (its error handler and exit codes)."""
    cmd = [str(PAPERRADAR), *(["--db", str(db)] if db else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """A library of the five example pages, and the --json report of importing them."""
    db = tmp_path_factory.mktemp("built") / "lib.db"
    report = run_json(db, "import", str(EXAMPLES))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, report


@pytest.fixture
def copy(built, tmp_path) -> Path:
    """A private copy of the built library, for tests that change it."""
    db = tmp_path / "lib.db"
    shutil.copyfile(built[0], db)
    return db


def show(db: Path, ref: str) -> dict:
    return run_json(db, "papers", "show", ref)


def assert_consistent(db: Path) -> None:
    lib = open_library(db)
    try:
        assert lib.check_integrity() == []
    finally:
        lib.close()


# ---------------------------------------------------------------- import reports


def test_import_folder_human_report(tmp_path):
    db = tmp_path / "lib.db"
    first = run(db, "import", str(EXAMPLES)).stdout
    for name, fmt, read, new, merged in EXPECTED:
        line = f"{EXAMPLES / name} ({fmt}): read {read}, new {new}, merged {merged}, unchanged 0, rejected 0"
        assert line in first
    assert "total: read 185, new 177, merged 8, unchanged 0, rejected 0" in first
    again = run(db, "import", str(EXAMPLES)).stdout
    assert "total: read 185, new 0, merged 0, unchanged 185, rejected 0" in again


def test_import_json_report_shape(built):
    _, report = built
    assert report["failed"] == []
    assert [f["path"] for f in report["files"]] == [str(EXAMPLES / name) for name, *_ in EXPECTED]
    for f, (_, fmt, read, new, merged) in zip(report["files"], EXPECTED, strict=True):
        assert set(f) == {"path", "format", "read", "new", "merged", "unchanged", "rejected", "conflicts"}
        assert (f["format"], f["read"], f["new"], f["merged"], f["unchanged"], f["rejected"]) == (
            fmt,
            read,
            new,
            merged,
            0,
            [],
        )


def test_stats_json(built):
    db, _ = built
    stats = run_json(db, "stats")
    assert stats["path"] == str(db)
    assert (stats["papers"], stats["records"], stats["merged_papers"]) == (177, 185, 8)
    assert (stats["corrections"], stats["imports"]) == (0, 5)
    assert stats["records_by_importer"] == {fmt: read for _, fmt, read, _, _ in EXPECTED}
    human = run(db, "stats").stdout
    assert "papers 177 · source records 185 · papers seen in several sources 8" in human


# ---------------------------------------------------------------- reading papers


def test_papers_list_json_with_limit_and_offset(built):
    db, _ = built
    first = run_json(db, "papers", "list", "--limit", "7")
    second = run_json(db, "papers", "list", "--limit", "7", "--offset", "7")
    assert len(first) == 7 and len(second) == 7
    assert not {p["id"] for p in first} & {p["id"] for p in second}
    assert first and all("sources" not in p and {"id", "title", "authors", "dates"} <= set(p) for p in first)
    everything = run_json(db, "papers", "list", "--limit", "1000")
    assert len(everything) == 177 and len({p["id"] for p in everything}) == 177
    by_title = [p["title"] for p in run_json(db, "papers", "list", "--limit", "1000", "--sort", "title")]
    titled = [t for t in by_title if t is not None]
    ascii_fold = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    assert titled == sorted(titled, key=lambda t: t.translate(ascii_fold))
    assert DUALFORMER in titled


def test_papers_show_json_has_sources_and_provenance(built):
    db, _ = built
    paper = show(db, "2410.09918")
    assert paper["id"] == "arxiv:2410.09918" and paper["title"] == DUALFORMER
    assert [a["name"] for a in paper["authors"]] == ["DiJia Su", "Sainbayar Sukhbaatar", "Michael Rabbat"]
    assert paper["authors_complete"] is False  # the profile page says "et al."
    assert paper["dates"] == {"created": "2024-10-13", "published": "2024-10-13"}
    listing, profile = sorted(paper["sources"], key=lambda s: s["importer"])
    assert (listing["importer"], listing["path"], listing["line"]) == (
        "page_arxiv_listing",
        str(EXAMPLES / "arxiv-author-listing.txt"),
        1,
    )
    assert (profile["importer"], profile["path"], profile["line"]) == (
        "page_profile_feed",
        str(EXAMPLES / "author-profile-with-categories.txt"),
        106,
    )
    assert listing["fields"]["dates"] == {"created": "2024-10-13"}
    assert profile["fields"]["title"] == DUALFORMER
    assert paper["provenance"]["title"] == profile["key"]
    assert paper["provenance"]["dates.created"] == listing["key"]
    assert show(db, "doi:10.48550/arxiv.2410.09918")["id"] == "arxiv:2410.09918"

    human = run(db, "papers", "show", "arxiv:2410.09918").stdout
    assert DUALFORMER in human and "sources (2)" in human
    assert (
        f"{profile['key'][:12]}  page_profile_feed  {EXAMPLES / 'author-profile-with-categories.txt'}:106"
        in human
    )


# ---------------------------------------------------------------- export


def test_export_jsonl_is_one_documented_object_per_line(built):
    db, _ = built
    lines = run(db, "papers", "export", "--format", "jsonl").stdout.splitlines()
    assert len(lines) == 177
    papers_out = [json.loads(line) for line in lines]
    documented = {"id", "ids", "title", "abstract", "authors", "categories", "dates", "links", "sources"}
    for p in papers_out:
        assert documented <= set(p), p["id"]
        assert p["sources"] and all({"importer", "path", "line", "fields"} <= set(s) for s in p["sources"])
        assert p["id"] in p["ids"]
    authors = [a for p in papers_out for a in p["authors"]]  # some papers have none
    assert authors and all(set(a) == {"name", "affiliations"} for a in authors)
    assert len({p["id"] for p in papers_out}) == 177
    dual = next(p for p in papers_out if p["id"] == "arxiv:2410.09918")
    assert dual["title"] == DUALFORMER and dual["categories"] == ["cs.AI"]
    assert {s["importer"] for s in dual["sources"]} == {"page_arxiv_listing", "page_profile_feed"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "bibtex",
            [
                "eprint = {2410.09918}",
                "author = {Su, DiJia and Sukhbaatar, Sainbayar and Rabbat, Michael and others}",
            ],
        ),
        ("ris", [f"TI  - {DUALFORMER}", "AU  - Su, DiJia", "DO  - 10.48550/arXiv.2410.09918", "ER  -"]),
        ("csljson", [f'"title": "{DUALFORMER}"', '"DOI": "10.48550/arXiv.2410.09918"']),
    ],
)
def test_export_formats_to_stdout_and_file(built, tmp_path, fmt, expected):
    db, _ = built
    text = run(db, "papers", "export", "2410.09918", "--format", fmt).stdout
    for piece in expected:
        assert piece in text
    target = tmp_path / f"out.{fmt}"
    result = run(db, "papers", "export", "2410.09918", "--format", fmt, "-o", str(target))
    assert result.stdout == "" and f"wrote 1 papers to {target}" in result.stderr
    assert target.read_text(encoding="utf-8") == text


def test_export_whole_library_in_each_format(built, tmp_path):
    db, _ = built
    for fmt, count in (
        ("bibtex", lambda t: sum(line.startswith("@") for line in t.splitlines())),
        ("ris", lambda t: sum(line.startswith("ER  -") for line in t.splitlines())),
        ("csljson", lambda t: len(json.loads(t))),
    ):
        target = tmp_path / f"all.{fmt}"
        run(db, "papers", "export", "--format", fmt, "--output", str(target))
        assert count(target.read_text(encoding="utf-8")) == 177, fmt


# ---------------------------------------------------------------- corrections


def sources_of(db: Path, ref: str) -> tuple[str, list[tuple[str, int]]]:
    paper = show(db, ref)
    return paper["id"], sorted((s["importer"], s["line"]) for s in paper["sources"])


def test_merge_survives_reimport_and_rebuild(copy):
    # two single-source papers: the listing's 2406.05317 (line 38) and the viewer's 2406.09415 (line 9)
    assert (
        "merged into arxiv:2406.05317: 2 source records"
        in run(copy, "papers", "merge", "2406.05317", "2406.09415").stdout
    )
    merged = ("arxiv:2406.05317", [("page_arxiv_listing", 38), ("page_dataset_viewer", 9)])
    assert sources_of(copy, "2406.05317") == merged
    assert sources_of(copy, "2406.09415") == merged  # the other id now leads to the same paper
    assert run_json(copy, "stats")["papers"] == 176

    reimport = run(copy, "import", str(EXAMPLES)).stdout
    assert "total: read 185, new 0, merged 0, unchanged 185, rejected 0" in reimport
    assert sources_of(copy, "2406.09415") == merged and run_json(copy, "stats")["papers"] == 176

    assert "rebuilt: 185 records into 176 papers" in run(copy, "papers", "rebuild").stdout
    assert sources_of(copy, "2406.09415") == merged
    assert_consistent(copy)


def test_split_undoes_a_wrong_merge_for_good(copy):
    run(copy, "papers", "merge", "arxiv:2405.16406", "arxiv:2406.07550")  # two unrelated papers
    wrong = show(copy, "2405.16406")
    assert len(wrong["sources"]) == 2
    viewer_key = next(s["key"] for s in wrong["sources"] if s["importer"] == "page_dataset_viewer")

    split = run_json(copy, "papers", "split", "2405.16406", "--record", viewer_key[:10])
    assert split["kept"]["id"] == "arxiv:2405.16406" and split["new"]["id"] == "arxiv:2406.07550"
    apart = {
        "2405.16406": ("arxiv:2405.16406", [("page_arxiv_listing", 43)]),
        "2406.07550": ("arxiv:2406.07550", [("page_dataset_viewer", 11)]),
    }

    def assert_apart() -> None:
        for ref, expected in apart.items():
            assert sources_of(copy, ref) == expected
        assert run_json(copy, "stats")["papers"] == 177

    assert_apart()
    run(copy, "import", str(EXAMPLES))
    assert_apart()
    assert "rebuilt: 185 records into 177 papers" in run(copy, "papers", "rebuild").stdout
    assert_apart()
    assert_consistent(copy)


def test_split_of_an_automatic_merge_survives_rebuild(copy):
    """Dualformer is matched across the listing and the profile page; a user who disagrees wins."""
    paper = show(copy, "2410.09918")
    profile_key = next(s["key"] for s in paper["sources"] if s["importer"] == "page_profile_feed")
    human = run(copy, "papers", "split", "2410.09918", "-r", profile_key[:8]).stdout
    assert f"arxiv:2410.09918 keeps 1 records; paperradar:{profile_key[:12]} now holds 1" in human
    run(copy, "papers", "rebuild")
    assert sources_of(copy, "2410.09918") == ("arxiv:2410.09918", [("page_arxiv_listing", 1)])
    titled = show(copy, f"paperradar:{profile_key[:12]}")
    assert titled["title"] == DUALFORMER and len(titled["sources"]) == 1
    assert run_json(copy, "stats")["papers"] == 178


# ---------------------------------------------------------------- errors, settings, help


def test_unknown_id_is_an_error_with_exit_code_1(copy):
    done = real(copy, "papers", "show", "arxiv:9999.99999")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "Error: no paper with id 'arxiv:9999.99999' in the library"
    merge = real(copy, "papers", "merge", "2410.09918", "no-such-paper")
    assert merge.returncode == 1 and "Error: no paper with id 'no-such-paper'" in merge.stderr
    split = real(copy, "papers", "split", "2410.09918", "--record", "ffffffffff")
    assert split.returncode == 1 and "Error: 2410.09918 has no source record ffffffffff" in split.stderr
    assert "Traceback" not in done.stderr + merge.stderr + split.stderr


def test_paperradar_db_environment_variable(tmp_path):
    env = {
        **os.environ,
        "PAPERRADAR_DB": str(tmp_path / "from-env.db"),
        "PAPERRADAR_HOME": str(tmp_path / "home"),
    }
    imported = real(None, "import", str(EXAMPLES / "abstract-list.txt"), env=env)
    assert imported.returncode == 0 and "read 10, new 10" in imported.stdout
    assert (tmp_path / "from-env.db").exists()
    stats = json.loads(real(None, "stats", "--json", env=env).stdout)
    assert stats["path"] == str(tmp_path / "from-env.db") and stats["papers"] == 10
    flag = json.loads(real(tmp_path / "flag.db", "stats", "--json", env=env).stdout)
    assert flag["path"] == str(tmp_path / "flag.db") and flag["papers"] == 0  # --db beats the variable


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ([], ["--db", "--debug", "import", "stats", "papers"]),
        (["import"], ["--format", "--map", "--json"]),
        (["stats"], ["--json"]),
        (["papers", "list"], ["--limit", "--offset", "--sort", "--json"]),
        (["papers", "show"], ["--json"]),
        (["papers", "export"], ["--format", "--output"]),
        (["papers", "merge"], ["--json"]),
        (["papers", "split"], ["--record", "--json"]),
        (["papers", "rebuild"], ["--json"]),
    ],
)
def test_help_of_each_command(command, options):
    result = CliRunner().invoke(app, [*command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for option in options:
        assert option in result.stdout


@pytest.mark.parametrize("command", ["index", "import"])
def test_help_names_the_ray_extra_whole(command):
    """Help renders through Rich, which read `[ray]` as a markup tag and printed `pip install
    'paperradar'`: an install line that leaves Ray out."""
    from paperradar.cli import index_cmd  # noqa: F401  (registers `index`)

    result = CliRunner().invoke(app, [command, "--help"], catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "pip install 'paperradar[ray]'" in result.stdout


def test_merged_away_paper_is_still_found_by_its_old_ids(cli):
    """After `papers merge`, every id the other paper had (its local id too) leads to the kept one."""
    import json as _json

    cli("import", str(EXAMPLES))
    listed = _json.loads(cli("papers", "list", "--json", "--limit", "200").output)
    orphan = next(
        p for p in listed if p["title"] is None and not any(i.startswith("arxiv:") for i in p["ids"])
    )
    kept = next(p for p in listed if p["id"].startswith("arxiv:"))
    assert cli("papers", "merge", kept["id"], orphan["id"]).exit_code == 0
    shown = _json.loads(cli("papers", "show", orphan["id"], "--json").output)
    assert shown["id"] == kept["id"]
