"""`paperradar search` on a library of the five example pages: the --json shape, the readable list,
filters and pages as options, and errors for what cannot be searched yet.

Expected counts as in test_search.py (checked with the sqlite3 shell). Does I/O (a temporary library).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import EXAMPLES
from paperradar.cli import app, imports, search  # noqa: F401  (registers the commands)
from paperradar.errors import BackendUnavailable, InvalidInput

GEAR = "GEAR: An Efficient KV Cache Compression Recipe for Near-Lossless Generative Inference of LLM"
KEYS = {"id", "ids", "title", "score", "snippet", "highlights", "authors", "date", "categories", "reasons"}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli-search") / "lib.db"
    run(path, "import", str(EXAMPLES))
    return path


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def found(db: Path, *args: str) -> list[dict]:
    return json.loads(run(db, "search", *args, "--json").stdout)


def test_json_shape(db):
    items = found(db, "KV cache", "--limit", "3")
    assert len(items) == 3 and all(set(i) == KEYS for i in items)
    gear = items[0]
    assert gear["title"] == GEAR and gear["id"] == gear["ids"][0] and gear["date"] == "2024-03-08"
    assert isinstance(gear["score"], float) and gear["score"] >= items[1]["score"] >= items[2]["score"]
    marked = [gear["snippet"][a:b] for a, b in gear["highlights"]]
    assert marked[:2] == ["KV", "caching"] and all(m.casefold() in {"kv", "cache", "caching"} for m in marked)


def test_readable_list(db):
    text = run(db, "search", "KV cache").stdout
    assert text.splitlines()[0] == f"  1. {GEAR}"
    assert "paperradar:3e87d20d3e7a · 2024-03-08" in text
    assert "Key-value (KV) caching has become the de-facto" in text
    assert text.rstrip().splitlines()[-1].startswith("1–15 of 15 · ")


def test_markup_in_queries_and_results_is_shown_literally(db):
    text = run(db, "search", "[bold]KV[/bold] [red]cache").stdout  # not rich markup: plain words
    assert "GEAR" in text and "no paper matches every term" in text
    assert run(db, "search", "[/]").stdout.startswith("the query has no letters or digits to search for")


@pytest.mark.parametrize(
    ("options", "total"),
    [
        (["--has-code"], 8),
        (["--category", "cs.CL"], 3),
        (["--category", "cs.CL", "--category", "cs.LG"], 4),
        (["--since", "2024"], 5),
        (["--since", "2024-04", "--until", "2024-06"], 3),
        (["--author", "zhang"], 1),
        (["--source", "page_hf_papers"], 1),
    ],
)
def test_filter_options(db, options, total):
    assert len(found(db, "KV cache", *options)) == total


def test_pages_and_flags(db):
    everything = [i["id"] for i in found(db, "KV cache")]
    assert [i["id"] for i in found(db, "KV cache", "--limit", "4", "--offset", "4")] == everything[4:8]
    assert "5–8 of 15" in run(db, "search", "KV cache", "--limit", "4", "--offset", "4").stdout
    kept = json.loads(run(db, "search", "--json", "--", '"KV cache" -gear').stdout)
    assert kept and all("GEAR" not in (i["title"] or "") for i in kept)
    assert len(found(db, "", "--limit", "5")) == 5  # no words: the newest papers


def test_relaxed_search_says_so(db):
    result = run(db, "search", "KV cache eviction for generative transformers", "--json")
    items = json.loads(result.stdout)
    assert items and items[0]["reasons"][0].startswith("matches ")
    assert "no paper matches every term" in result.stderr


def test_a_fresh_import_is_searchable_by_meaning_at_once(db):
    """`import` embeds new papers with the fast tier, so hybrid search works without `paperradar index`."""
    items = found(db, "compressing the key value cache of language models", "--mode", "semantic")
    assert sum("cache" in json.dumps(i).lower() for i in items[:5]) >= 4  # all are about KV caches
    assert any(r.startswith("close in meaning") for r in items[0]["reasons"])


def test_errors(db, tmp_path):
    bare = tmp_path / "bare.db"
    run(bare, "import", "--no-index", str(EXAMPLES))
    with pytest.raises(BackendUnavailable, match="run `paperradar index`"):
        run(bare, "search", "KV cache", "--mode", "hybrid")
    with pytest.raises(InvalidInput, match="--since wants a date"):
        run(db, "search", "KV cache", "--since", "yesterday")
