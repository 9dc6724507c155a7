"""`paperradar similar`: neighbours of a paper with reasons, human and JSON."""

from __future__ import annotations

import json

from conftest import EXAMPLES


def test_similar_json_lists_neighbours_with_reasons(cli):
    assert cli("import", str(EXAMPLES)).exit_code == 0
    result = cli("similar", "arxiv:2407.08296", "--mode", "lexical", "--limit", "5", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 5
    assert hits and all({"id", "ids", "title", "score", "reasons"} <= set(h) for h in hits)
    assert "arxiv:2407.08296" not in [h["id"] for h in hits]  # Q-GaLore itself is not its own neighbour
    assert any((h["title"] or "").startswith("GaLore: Memory-Efficient") for h in hits[:3])
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_similar_human_output_and_bad_mode(cli):
    cli("import", str(EXAMPLES))
    shown = cli("similar", "arxiv:2407.08296", "--mode", "lexical", "--limit", "3")
    assert shown.exit_code == 0 and "GaLore" in shown.output and "shares distinctive words" in shown.output
    import pytest

    from paperradar.errors import InvalidInput

    with pytest.raises(InvalidInput, match="--mode"):
        cli("similar", "arxiv:2407.08296", "--mode", "psychic")


def test_similar_by_facet_matches_sentences_and_says_which(cli):
    from paperradar.embed import models_dir

    if not (models_dir() / "manifest.json").is_file():
        import os

        import pytest

        if os.environ.get("CI"):
            pytest.fail("no embedding models: `make test` builds them")
        pytest.skip("no embedding models: run `make models`")
    assert cli("import", str(EXAMPLES)).exit_code == 0  # embeds the new papers
    result = cli("similar", "arxiv:2407.08296", "--facet", "method", "--limit", "5", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 5 and "arxiv:2407.08296" not in [h["id"] for h in hits]
    assert hits and all(
        any(r.startswith("close in its method (sentence match") for r in h["reasons"]) for h in hits
    )
    assert any("GaLore" in (h["title"] or "") for h in hits)
    shown = cli("similar", "arxiv:2407.08296", "--facet", "result", "--limit", "3")
    assert shown.exit_code == 0 and "close in its results" in shown.output


def test_similar_rejects_an_unknown_facet(cli):
    import pytest

    from paperradar.errors import InvalidInput

    cli("import", str(EXAMPLES), "--no-index")
    with pytest.raises(InvalidInput, match="--facet"):
        cli("similar", "arxiv:2407.08296", "--facet", "vibes")
