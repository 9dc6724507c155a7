"""`paperradar db copy`: SQLite -> PostgreSQL -> SQLite keeps everything, and an interrupted copy
finishes when run again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES
from paperradar import profiles as P
from paperradar.cli import app, register_commands
from paperradar.errors import InvalidInput
from paperradar.importers.base import Source
from paperradar.ingest import import_source
from paperradar.search import search
from paperradar.storage import open_library
from paperradar.storage.copy import copy_library, papers_checksum


@pytest.fixture
def source(tmp_path):
    """A SQLite library with papers, a merge, a profile with feedback, and vectors."""
    path = str(tmp_path / "src.db")
    lib = open_library(path)
    for f in sorted(EXAMPLES.iterdir()):
        import_source(lib, Source.from_file(f))
    P.create_profile(lib, "me", papers=["arxiv:2405.12532"])
    P.give_feedback(lib, "me", "arxiv:2310.01801", "like")
    with lib.transaction():
        lib.put_embeddings("m", [(pk, "h", bytes(16)) for pk in lib.list_pks(None)])
    lib.close()
    return path


def db_copy(src: str, dst: str):
    register_commands()
    return CliRunner().invoke(app, ["db", "copy", src, dst, "--json"], catch_exceptions=False)


def test_round_trip_through_postgresql_keeps_everything(source, pg_url, tmp_path):
    back = str(tmp_path / "back.db")
    first, second = db_copy(source, pg_url), db_copy(pg_url, back)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert report["ok"] and report["copied"]["papers"] == 177 and report["copied"]["feedback"] == 1
    a, b = open_library(source), open_library(back)
    try:
        assert papers_checksum(a) == papers_checksum(b)
        assert a.counts() == b.counts()
        assert P.get_profile(b, "me").feedback[0].kind == "like"
        assert len(dict(b.vectors("m"))) == 177
        assert search(b, "GaLore", limit=3).hits  # the copy's full-text index was built
    finally:
        a.close()
        b.close()


def test_an_interrupted_copy_finishes_when_run_again(source, pg_url):
    src, dst = open_library(source), open_library(pg_url)

    def stop_at_embeddings(rows: int, total: int | None = None, table: str = "") -> None:
        if table == "embeddings":  # progress.Progress: (done, total, message), the table copied
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            copy_library(src, dst, progress=stop_at_embeddings)
        assert dst.counts()["papers"] == 177 and dst.counts()["records"] == 0
        report = copy_library(src, dst)
        assert report.ok
        assert report.copied["papers"] == report.copied["embeddings"] == 0  # only what was missing
        assert report.copied["records"] == 185 and report.copied["feedback"] == 1
    finally:
        src.close()
        dst.close()


def test_copy_refuses_a_library_that_is_not_empty(source, tmp_path):
    other = open_library(tmp_path / "other.db")
    # the last example, not the first: the source imports the first one first, and an import of it
    # here in the same second would be a true prefix of the source (times are whole seconds), which
    # the check rightly takes for an unfinished copy (seen once in a fresh-clone CI run)
    import_source(other, Source.from_file(sorted(EXAMPLES.iterdir())[-1]))
    before = other.counts()
    other.close()
    src, other = open_library(source), open_library(tmp_path / "other.db")
    try:
        with pytest.raises(InvalidInput, match="not an unfinished copy"):
            copy_library(src, other)
        assert other.counts() == before  # nothing was written
    finally:
        src.close()
        other.close()
