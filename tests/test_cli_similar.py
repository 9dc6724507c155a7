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
    assert all({"id", "ids", "title", "score", "reasons"} <= set(h) for h in hits)
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
