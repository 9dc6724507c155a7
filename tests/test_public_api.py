"""The public API (issue 18): `paperradar.__all__` names the library's entry points; a change to it is
a deliberate change to this test (httpx's tests/test_exported_members.py is the pattern)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import paperradar

PUBLIC = [
    "__version__",
    "Author",
    "BackendUnavailable",
    "Conflict",
    "Digest",
    "Hit",
    "ImportReport",
    "InvalidInput",
    "Library",
    "NetworkError",
    "NotFound",
    "Paper",
    "ParseError",
    "PartialDate",
    "Profile",
    "RadarError",
    "Recommendation",
    "Record",
    "SearchResult",
    "Source",
    "SourceRef",
    "build_digest",
    "build_topics",
    "create_profile",
    "get_paper",
    "get_profile",
    "give_feedback",
    "import_source",
    "list_papers",
    "new_digest",
    "open_library",
    "similar_to",
    "update_index",
]


def test_all_is_pinned():
    assert paperradar.__all__ == PUBLIC


def test_every_public_name_resolves_to_its_home_in_the_library():
    for name in PUBLIC[1:]:
        value = getattr(paperradar, name)
        assert value.__module__.startswith("paperradar."), name
        assert value.__name__ == name
        assert name in dir(paperradar)


def test_no_public_name_is_shadowed_by_a_submodule():
    """`paperradar.search` is the module once anything imported it, so a function of that name
    would resolve to the module in one process and the function in another: none is exported."""
    src = Path(paperradar.__file__).parent
    submodules = {p.stem for p in src.glob("*.py")} | {p.name for p in src.iterdir() if p.is_dir()}
    assert not submodules & set(PUBLIC)
    from paperradar.export import export
    from paperradar.recommend import recommend
    from paperradar.search import search

    assert callable(search) and callable(recommend) and callable(export)


def test_errors_leaving_the_library_share_one_base():
    for name in ("BackendUnavailable", "Conflict", "InvalidInput", "NetworkError", "NotFound", "ParseError"):
        assert issubclass(getattr(paperradar, name), paperradar.RadarError)


def test_an_unknown_name_is_an_attribute_error():
    try:
        paperradar.no_such_thing  # noqa: B018
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("paperradar.no_such_thing resolved")


def test_importing_paperradar_loads_nothing_heavy():
    """`import paperradar` stays cheap (the CLI and every subprocess pay it): names load on use."""
    code = "import sys, paperradar; print(sorted(m for m in ('numpy', 'sklearn', 'fastapi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_says_it_is_typed():
    assert (Path(paperradar.__file__).parent / "py.typed").is_file()


def test_the_documented_example_runs(tmp_path):
    """The module docstring's example, on a real library and a real BibTeX file."""
    from paperradar.search import search

    bib = tmp_path / "papers.bib"
    bib.write_text(
        "@article{a, title={KV cache compression for long contexts}, author={Ada Lovelace}, year={2024}}\n"
    )
    lib = paperradar.open_library(str(tmp_path / "library.db"))
    try:
        report = paperradar.import_source(lib, paperradar.Source.from_file(bib))
        hits = search(lib, "KV cache compression").hits
    finally:
        lib.close()
    assert report.new == 1
    assert [h.paper.title for h in hits] == ["KV cache compression for long contexts"]


# ---------------------------------------------------------------- only RadarError leaves the library


def test_a_name_taken_is_a_conflict_409_in_the_api_and_exit_1_in_the_cli(tmp_path):
    from web_helpers import client_for

    path = library_with_one_paper(tmp_path)
    client = client_for(path)
    first = client.post_csrf("/api/profiles", json={"name": "me", "papers": ["doi:10.1000/kv"]})
    again = client.post_csrf("/api/profiles", json={"name": "me", "papers": ["doi:10.1000/kv"]})
    assert first.status_code == 200, first.text
    assert again.status_code == 409
    assert again.json() == {"ok": False, "error": again.json()["error"], "status": 409}
    assert "exists already" in again.json()["error"]
    assert issubclass(paperradar.Conflict, paperradar.InvalidInput)  # old callers still catch it

    ids = tmp_path / "ids.txt"
    ids.write_text("doi:10.1000/kv\n")
    done = run_cli("--db", path, "profile", "create", "me", "--papers", str(ids))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: a profile named 'me' exists already")


def library_with_one_paper(tmp_path: Path) -> str:
    lib = str(tmp_path / "lib.db")
    bib = tmp_path / "a.bib"
    bib.write_text(
        "@article{a, title={KV cache compression}, author={Ada Lovelace}, year={2024}, doi={10.1000/kv}}\n"
    )
    assert run_cli("--db", lib, "import", str(bib), "--no-index").returncode == 0
    return lib


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point, in a new process (the error handler lives there)."""
    code = "import sys; from paperradar.cli import main; sys.argv[0] = 'paperradar'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_a_file_that_cannot_be_written_is_one_error_line_not_a_traceback(tmp_path):
    lib = library_with_one_paper(tmp_path)
    (tmp_path / "taken").write_text("a file, not a folder")
    done = run_cli("--db", lib, "papers", "export", "-f", "bibtex", "-o", str(tmp_path / "taken" / "out.bib"))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    assert "Not a directory" in done.stderr
