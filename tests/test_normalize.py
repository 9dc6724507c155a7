"""Text, id, date and name normalisation."""

from __future__ import annotations

import json

import pytest

from paperradar.errors import RadarError
from paperradar.models import PartialDate
from paperradar.normalize import (
    arxiv_aliases,
    arxiv_ids_in,
    author_key,
    clean_text,
    code_links_in,
    ids_from_text,
    normalize_author,
    normalize_doi,
    parse_arxiv_id,
    parse_date,
    split_glued_text,
    title_key,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("H$_2$O: Heavy-Hitter Oracle", "H₂O: Heavy-Hitter Oracle"),
        (r"around $95\%$ of the solutions", "around 95% of the solutions"),
        (r"$\alpha$-entmax and $\mathcal{O}(n^2)$ time", "α-entmax and O(n²) time"),
        (r"Schr\"odinger and Bal\'{a}zs", "Schrödinger and Balázs"),
        (r"a \emph{very} \textbf{bold} claim", "a very bold claim"),
        ("costs $5 and $6 today", "costs $5 and $6 today"),  # prices are not math
        ("a 95% gain, 3 < 4 & R&D", "a 95% gain, 3 < 4 & R&D"),  # plain text untouched
        ("large-\n  scale   models\n", "large-scale models"),
        ("The {GPT} model", "The GPT model"),
        ("   ", None),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_split_glued_only_when_confident():
    assert split_glued_text("Compression Recipefor Near-Lossless") == "Compression Recipe for Near-Lossless"
    assert split_glued_text("we introduceTransformer-based models") == "we introduce Transformer-based models"
    # real words, names, CamelCase model names and URLs stay as they are
    for text in (
        "pretraining invariance distractor",
        "DejaVu GaLore LoRA",
        "Taoan Huang, Michael Rabbat",
        "see attact-benchmark.github.io",
    ):
        assert split_glued_text(text) == text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2410.09918", ("2410.09918", None)),
        ("2410.09918v2", ("2410.09918", "v2")),
        ("arXiv:2410.09918", ("2410.09918", None)),
        ("https://arxiv.org/abs/2410.09918v3", ("2410.09918", "v3")),
        ("https://arxiv.org/pdf/2401.00001v1.pdf", ("2401.00001", "v1")),
        ("10.48550/arXiv.2403.03507", ("2403.03507", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", "v2")),
        ("http://arxiv.org/abs/math.GT/0309136", ("math.GT/0309136", None)),
        ("0704.0001", ("0704.0001", None)),
        ("2410.O1779", None),
        ("1234", None),
    ],
)
def test_parse_arxiv_id(text, parsed):
    assert parse_arxiv_id(text) == parsed


def test_ids_and_aliases():
    assert arxiv_aliases("2410.09918", "v2") == [
        "arxiv:2410.09918",
        "arxiv:2410.09918v2",
        "doi:10.48550/arxiv.2410.09918",
    ]
    assert ids_from_text("https://doi.org/10.1103/PhysRevD.76.013009") == ["doi:10.1103/physrevd.76.013009"]
    assert ids_from_text("doi:10.48550/arXiv.2403.03507")[0] == "arxiv:2403.03507"
    assert normalize_doi("see https://doi.org/10.1000/ABC.") == "10.1000/abc"
    assert ids_from_text("not an id") == []
    assert arxiv_ids_in("cites arXiv:2403.03507 and https://arxiv.org/abs/2407.08296v1.") == [
        ("2403.03507", None),
        ("2407.08296", "v1"),
    ]


def test_code_links():
    text = "Code: https://github.com/FMInference/DejaVu. Also (https://github.com/jiaweizzhao/GaLore)"
    assert code_links_in(text) == [
        "https://github.com/FMInference/DejaVu",
        "https://github.com/jiaweizzhao/GaLore",
    ]
    assert code_links_in("https://github.com") == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Oct 26, 2023", "2023-10-26"),
        ("Apr 7", "--04-07"),  # no year: never guessed
        ("7 Apr", "--04-07"),
        ("2024-10-13", "2024-10-13"),
        ("2024-10-13T17:59:59Z", "2024-10-13"),
        ("Mon, 2 Apr 2007 19:18:42 GMT", "2007-04-02"),
        ("Sept 2024", "2024-09"),
        ("2024", "2024"),
        ("Feb 30, 2024", None),
        ("Created: soon", None),
        ("", None),
    ],
)
def test_parse_date(text, iso):
    d = parse_date(text)
    assert (d.iso() if d else None) == iso


def test_partial_date_round_trip_and_validation():
    assert PartialDate.from_iso("--04-07") == PartialDate(None, 4, 7)
    assert PartialDate.from_iso("2024-10") == PartialDate(2024, 10)
    assert not PartialDate(None, 4, 7).complete
    with pytest.raises(ValueError):
        PartialDate(2024, 13)


def test_author_names():
    assert normalize_author("Zhao, Jiawei") == "Jiawei Zhao"
    assert normalize_author(r"Bal\'azs,  C.") == "C. Balázs"
    assert author_key("Jiawei Zhao") == author_key("J. Zhao") == author_key("Zhao, Jiawei") == "zhao j"
    assert author_key("Balázs Csaba") == "csaba b"


def test_title_key_ignores_glue_case_and_latex():
    assert title_key("GEAR: An Efficient KV Cache Compression Recipefor LLM") == title_key(
        "GEAR: an efficient KV cache compression recipe for LLM"
    )
    assert title_key("H$_2$O: Heavy-Hitter") == title_key("H2O: Heavy Hitter")


# ---------------------------------------------------------------- dates mislead (issue 15, done in 14)


def _listing(arxiv_id: str, listed: str, title: str) -> str:
    return (
        json.dumps(
            {
                "id": arxiv_id,
                "title": title,
                "abstract": f"About {title}.",
                "authors": ["Ann Author"],
                "categories": ["cs.LG"],
                "listing_date": listed,
                "last_listing_date": listed,
            }
        )
        + "\n"
    )


def _two_papers(lib) -> None:
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source

    text = _listing("1804.06498", "2025-10-13", "Deep Multimodal Subspace Clustering Networks")
    text += _listing("2510.01234", "2025-10-13", "A paper of October 2025")
    import_source(lib, Source.from_text(text, "listing.jsonl"))


def test_a_relisted_old_arxiv_paper_shows_its_ids_month_not_the_listing_date(lib):
    from paperradar.papers import get_paper, list_papers
    from paperradar.storage.fts import Filters

    _two_papers(lib)
    old = get_paper(lib, "1804.06498")
    assert old.year == 2018 and old.dates["listed"] == PartialDate(2025, 10, 13)  # the listing is kept
    assert [p.id for p in list_papers(lib, None, order="recent")][0] == "arxiv:2510.01234"
    assert (
        lib.conn.execute("SELECT date FROM papers WHERE id = 'arxiv:1804.06498'").fetchone()[0] == "2018-04"
    )
    with pytest.raises(RadarError, match="2024-13"):
        Filters(since="2024-13")


def test_an_old_library_gets_the_dates_fixed_by_its_migration(tmp_path):
    import sqlite3

    from paperradar.storage import migrations, open_library

    new = open_library(tmp_path / "new.db")
    _two_papers(new)
    rows = [dict(r) for r in new.conn.execute("SELECT * FROM papers")]
    new.close()
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)  # a library made before migration 12
    assert migrations.migrate(conn, upto=11) == 11
    have = {r[1] for r in conn.execute("PRAGMA table_info(papers)")}
    for row in rows:
        names = [c for c in row if c in have]
        marks = ", ".join("?" for _ in names)
        conn.execute(f"INSERT INTO papers ({', '.join(names)}) VALUES ({marks})", [row[c] for c in names])
    conn.execute("UPDATE papers SET date = '2025-10-13', year = 2025")  # as issue 14 found them
    conn.close()
    lib = open_library(tmp_path / "old.db")
    rows = dict(lib.conn.execute("SELECT id, date FROM papers").fetchall())
    assert rows == {"arxiv:1804.06498": "2018-04", "arxiv:2510.01234": "2025-10-13"}
    lib.close()
    lib = open_library(tmp_path / "old.db")
    rows = dict(lib.conn.execute("SELECT id, date FROM papers").fetchall())
    assert rows == {"arxiv:1804.06498": "2018-04", "arxiv:2510.01234": "2025-10-13"}
    lib.close()
