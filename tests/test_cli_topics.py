"""`paperradar topics build|list|show|map` and `paperradar trends` on the planted corpus."""

from __future__ import annotations

import json

import pytest

from paperradar.errors import InvalidInput, NotFound
from test_topics import need_models, write_corpus


@pytest.fixture
def built(cli, tmp_path):
    need_models()
    write_corpus(tmp_path / "corpus.jsonl")
    assert cli("import", str(tmp_path / "corpus.jsonl")).exit_code == 0
    assert cli("index", "--tier", "fast").exit_code == 0
    result = cli("topics", "build", "--fine", "4", "--broad", "2", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_build_then_list_gives_the_documented_shape(cli, built):
    assert built["fine_topics"] == 4 and built["broad_topics"] == 2 and built["papers"] == 414
    topics = json.loads(cli("topics", "list", "--json").stdout)
    assert len(topics) == 6
    assert topics and all({"id", "label", "size", "parent"} <= set(t) for t in topics)
    broad = {t["id"] for t in topics if t["parent"] is None}
    assert len(broad) == 2 and topics and all(t["parent"] in broad for t in topics if t["parent"] is not None)
    text = cli("topics", "list", "--level", "fine").stdout
    assert "speaker diarization" in text and "protein folding" in text


def test_show_by_label_words(cli, built):
    result = cli("topics", "show", "protein folding", "--limit", "2")
    assert result.exit_code == 0
    assert "most central papers" in result.stdout and "per month: 2025-01 8" in result.stdout
    data = json.loads(cli("topics", "show", "protein folding", "--json").stdout)
    assert data["size"] == 96 and data["level"] == "fine"


def test_trends_names_the_growing_theme(cli, built):
    data = json.loads(cli("trends", "--json").stdout)
    assert [r["label"].split(", ")[0] for r in data["rising"]] in (
        [p]
        for p in ("speaker diarization", "acoustic model", "spoken language", "speech recognition", "phoneme")
    )
    assert data["window_to"] == "2025-12" and len(data["months"]) == 12
    text = cli("trends").stdout
    assert "Rising topics 2025-10 – 2025-12" in text and "x3" in text


def test_map_png_is_a_real_image(cli, built, tmp_path):
    png = tmp_path / "map.png"
    result = cli("topics", "map", "--png", str(png), "--highlight", "arxiv:2501.00001")
    assert result.exit_code == 0, result.output
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") == 1600  # width
    data = json.loads(cli("topics", "map", "--json", "--limit", "10", "--highlight", "2501.00001").stdout)
    assert data["total"] == 414 and any(p["hit"] for p in data["points"])


def test_without_topics_it_says_how_to_build_them(cli):
    assert "No topics yet" in cli("topics", "list").stdout
    with pytest.raises(NotFound, match="paperradar topics build"):
        cli("trends")  # the CLI's one handler prints it as `Error: ...` with exit code 1


def test_trends_for_a_profile_lists_what_is_new_in_its_topics(cli, built, db_path):
    from paperradar import profiles
    from paperradar.storage import open_library

    lib = open_library(db_path)
    profiles.create_profile(lib, "speechy", papers=["arxiv:2512.00400"])
    lib.close()
    text = cli("trends", "--profile", "speechy").stdout
    assert "New in speechy's topics since 2025-10" in text
    assert "1 of yours, 89 new" in text
    data = json.loads(cli("trends", "--profile", "speechy", "--json").stdout)
    assert data["topics"][0]["profile_papers"] == 1 and len(data["topics"][0]["new_papers"]) == 5


def test_cluster_a_search_result(cli, built):
    # every planted title ends in "part N": the search finds all 414, grouped into the 4 themes
    data = json.loads(cli("topics", "cluster", "part", "--limit", "500", "--k", "4", "--json").stdout)
    assert sorted(g["size"] for g in data) == [96, 96, 96, 126]
    assert "protein folding" in cli("topics", "cluster", "part", "--limit", "500", "--k", "4").stdout
    with pytest.raises(InvalidInput):
        cli("topics", "cluster")
