"""OpenAlex works JSON: a real single-work response (tests/data/openalex, origin in tests/data/README.md),
a works list response built around it, the snapshot's JSON Lines, broken works skipped with their
line, detection beside the other JSON importers, and the real `paperradar import` command."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import test_fuzz_importers as fuzz
from conftest import names, split
from paperradar import importers
from paperradar.importers.base import Source
from paperradar.importers.openalex import abstract_from_index
from paperradar.models import PartialDate

DATA = Path(__file__).parent / "data"
REAL = DATA / "openalex" / "W2741809807.json"  # https://api.openalex.org/works/W2741809807
WORK = json.loads(REAL.read_text(encoding="utf-8"))
ARXIV_WORK = {  # the shape of an arXiv preprint in OpenAlex: no DOI of its own, found by location
    "id": "https://openalex.org/W4392621238",
    "doi": None,
    "display_name": "Efficient <i>KV</i> cache compression",
    "publication_year": 2024,
    "authorships": [{"author": {"display_name": "Ada Lovelace"}}],
    "abstract_inverted_index": {"cache": [1, 3], "A": [0], "the": [2]},
    "primary_location": {
        "landing_page_url": "https://arxiv.org/abs/2403.03507v2",
        "pdf_url": "https://arxiv.org/pdf/2403.03507",
        "source": {"display_name": "arXiv (Cornell University)"},
    },
    "type": "preprint",
}


def parsed(path: Path) -> tuple[str, list, list]:
    source = Source.from_file(path)
    module = importers.detect(source)
    recs, errors = split(module.parse(source))
    return module.NAME, recs, errors


def test_a_real_single_work_response():
    fmt, recs, errors = parsed(REAL)
    assert fmt == "openalex" and errors == [] and len(recs) == 1
    [rec] = recs
    assert rec.title == (
        "The state of OA: a large-scale analysis of the prevalence and impact of Open Access articles"
    )
    assert names(rec)[:3] == ["Heather Piwowar", "Jason Priem", "Vincent Larivière"] and len(names(rec)) == 9
    assert rec.abstract.startswith("Despite growing interest in Open Access (OA) to scholarly literature,")
    assert rec.abstract.endswith("as a way to inform OA policy and practice.")
    assert rec.dates["published"] == PartialDate(2018, 2, 13)
    assert rec.ids == ["openalex:W2741809807", "doi:10.7717/peerj.4375", "pmid:29456894"]
    assert rec.venue == "PeerJ"
    assert rec.links["pdf"][0] == "https://peerj.com/articles/4375.pdf"
    assert rec.extra["type"] == "article" and rec.extra["pmcid"].endswith("5815332")


def test_the_abstract_is_rebuilt_in_word_order():
    index = {"learning": [1, 4], "Deep": [0], "is": [2], "representation": [3]}
    assert abstract_from_index(index) == "Deep learning is representation learning"
    assert abstract_from_index(None) == "" and abstract_from_index({"x": ["nan", -1]}) == ""


def test_a_works_list_keeps_the_neighbours_of_broken_works(tmp_path):
    untitled = {"id": "https://openalex.org/W1", "display_name": None, "title": None}
    no_id = {"id": None, "doi": None, "display_name": "A work nobody can name"}
    response = {
        "meta": {"count": 4, "page": 1, "per_page": 25},
        "results": [WORK, untitled, ARXIV_WORK, no_id],
    }
    path = tmp_path / "works.json"
    path.write_text(json.dumps(response, indent=2), encoding="utf-8")
    fmt, recs, errors = parsed(path)
    assert fmt == "openalex"
    assert [r.extra["openalex"] for r in recs] == ["W2741809807", "W4392621238"]
    lines = path.read_text(encoding="utf-8").splitlines()
    for error, text in zip(
        errors, ("work 2 (W1) has no title", "work 4 ('A work nobody can name') has no"), strict=True
    ):
        assert error.source == str(path) and error.reason.startswith(text)
        assert lines[error.line - 1].strip() == "{"  # the line the broken work opens on
    assert [e.line for e in errors] == sorted(e.line for e in errors) and len(errors) == 2
    arxiv = recs[1]
    assert arxiv.title == "Efficient KV cache compression" and arxiv.abstract == "A cache the cache"
    assert {"arxiv:2403.03507", "arxiv:2403.03507v2", "doi:10.48550/arxiv.2403.03507"} <= set(arxiv.ids)
    assert arxiv.venue is None and arxiv.links["abs"] == ["https://arxiv.org/abs/2403.03507v2"]
    assert arxiv.dates["published"] == PartialDate(2024)


def test_snapshot_json_lines(tmp_path):
    path = tmp_path / "part_000"
    path.write_text(f"{json.dumps(ARXIV_WORK)}\n{{not json\n{json.dumps(WORK)}\n", encoding="utf-8")
    fmt, recs, errors = parsed(path)
    assert fmt == "openalex" and len(recs) == 2
    assert [(e.line, e.reason[:28]) for e in errors] == [(2, "work 2: invalid JSON (Expect")]
    gz = tmp_path / "part_001.gz"  # the snapshot's parts are gzipped
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert [r.title for r in parsed(gz)[1]] == [r.title for r in recs]


def test_detection_leaves_the_other_json_formats_alone():
    from paperradar.importers import csljson, json_papers, openalex

    head = REAL.read_text(encoding="utf-8")[:65536]
    listed = json.dumps({"meta": {"count": 1}, "results": [WORK]})
    assert openalex.detect(head, "W2741809807.json") == 90 and openalex.detect(listed, "works.json") == 95
    for other in (csljson, json_papers):  # a work has "id" and "type" like a CSL item
        assert other.detect(head, "x.json") < 90 and other.detect(listed, "x.json") < 95
    dev = DATA / "realworld" / "dev"
    for name in (
        "s2__search_paper.json",
        "s2__paper_batch.json",
        "bbt__Pandoc-LaTeX-SCHOMD_Citation_Export.csl.json",
    ):
        assert openalex.detect((dev / name).read_text(encoding="utf-8")[:65536], name) == 0
    assert openalex.detect('[{"id": "W1", "type": "article", "title": "x"}]', "x.json") == 0


def test_paperradar_import_reads_a_works_response(tmp_path, cli):
    path = tmp_path / "works.json"
    path.write_text(json.dumps({"meta": {"count": 2}, "results": [WORK, {"id": "https://openalex.org/W2"}]}))
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)["files"]
    assert (report["format"], report["read"], report["new"]) == ("openalex", 1, 1)
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [(1, "work 2 (W2) has no title")]
    for ref in ("10.7717/peerj.4375", "openalex:W2741809807"):
        shown = cli("papers", "show", ref)
        assert "The state of OA" in shown.stdout and "Heather Piwowar" in shown.stdout
    again = json.loads(cli("import", str(path), "--json").stdout)["files"][0]
    assert (again["new"], again["unchanged"]) == (0, 1)  # the OpenAlex id finds the paper again


OPENALEX_KEYS = ["id", "doi", "display_name", "title", "publication_date", "publication_year", "authorships"]
OPENALEX_KEYS += ["abstract_inverted_index", "primary_location", "best_oa_location", "locations", "ids"]
OPENALEX_KEYS += ["concepts", "topics", "keywords", "open_access", "type"]


def openalex_work(title: str, n: int) -> dict:
    return {"id": f"https://openalex.org/W{n}", "display_name": title, "publication_year": 2024}


@fuzz.DERANDOMIZED
@given(
    st.one_of(fuzz.json_value, st.dictionaries(st.sampled_from(OPENALEX_KEYS), fuzz.json_value, max_size=8))
)
def test_a_broken_work_costs_nothing_around_it(middle):
    works = [openalex_work(fuzz.ALPHA, 1), middle, openalex_work(fuzz.OMEGA, 2)]
    fuzz.assert_neighbours_kept("openalex", json.dumps({"meta": {}, "results": works}, indent=1).encode())
    lines = "\n".join(json.dumps(w) for w in works).encode()
    fuzz.assert_neighbours_kept("openalex", lines)


def test_the_shape_is_read_from_the_first_line(tmp_path):
    compact = tmp_path / "page.json"  # the API answers on one line
    compact.write_text(json.dumps({"meta": {"count": 2}, "results": [WORK, ARXIV_WORK]}))
    lines = tmp_path / "part.jsonl"  # a line may hold a "results" list of its own
    lines.write_text(f"{json.dumps(WORK)}\n{json.dumps({**ARXIV_WORK, 'extra': {'results': [1]}})}\n")
    pretty = tmp_path / "W4392621238.json"
    pretty.write_text(json.dumps(ARXIV_WORK, indent=2))
    for path, count in ((compact, 2), (lines, 2), (pretty, 1)):
        fmt, recs, errors = parsed(path)
        assert (fmt, len(recs), errors) == ("openalex", count, []), path.name


def test_every_registered_importer_has_a_merge_rank():
    # docs/architecture.md, "Add an importer" step 4: one left out ranks 10 and loses every merge
    from paperradar.dedupe import IMPORTER_RANK

    assert [name for name in importers.IMPORTERS if name not in IMPORTER_RANK] == []
