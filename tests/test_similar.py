"""Similar papers: lexical evidence through FTS5, dense through the vector index, fused, with reasons."""

from __future__ import annotations

import pytest

from conftest import PAGES, need_shared
from paperradar.importers.base import Source
from paperradar.index import VectorIndex, update_index
from paperradar.ingest import import_source
from paperradar.similar import query_terms, rrf, similar_to
from test_index import HashingEmbedder


@pytest.fixture
def pages_lib(lib):
    for f in sorted(need_shared(PAGES).iterdir()):
        import_source(lib, Source.from_file(f))
    return lib


def title_of(lib, pk):
    return lib.paper_row(pk).title or ""


def test_query_terms_drop_stop_words_and_keep_title_first():
    terms = query_terms("GaLore: Memory-Efficient LLM Training", "We propose a method that is new.")
    assert terms[:3] == ["galore", "memory-efficient", "llm"]
    assert "we" not in terms and "propose" not in terms and "the" not in terms


def test_rrf_rewards_agreement():
    fused = rrf([([1, 2, 3], 1.0), ([2, 1, 4], 1.0)])
    assert max(fused, key=fused.get) in (1, 2) and fused[2] == fused[1] > fused[3] > 0


def test_lexical_neighbours_of_galore_are_its_family(pages_lib):
    lib = pages_lib
    galore = next(p for p in lib.list_pks() if title_of(lib, p).startswith("GaLore: Memory-Efficient"))
    hits = similar_to(lib, galore, limit=5, mode="lexical")
    assert galore not in [h.pk for h in hits]  # never itself
    titles = [title_of(lib, h.pk) for h in hits]
    assert any(t.startswith("Q-GaLore") for t in titles[:3]), titles
    assert hits and all(h.reasons for h in hits[:3])


def test_pool_restricts_the_ranking(pages_lib):
    lib = pages_lib
    pks = lib.list_pks()
    galore = next(p for p in pks if title_of(lib, p).startswith("GaLore: Memory-Efficient"))
    pool = [p for p in pks if p != galore][:10]
    hits = similar_to(lib, galore, limit=50, among=pool, mode="lexical")
    assert {h.pk for h in hits} <= set(pool)


def indexed_galore(lib):
    """The library's vectors by the hashing embedder, their index, and the GaLore paper's pk."""
    emb = HashingEmbedder()
    update_index(lib, emb)
    index = VectorIndex.load(lib, emb.model_id)
    galore = next(p for p in lib.list_pks() if title_of(lib, p).startswith("GaLore: Memory-Efficient"))
    return emb, index, galore


def test_hybrid_uses_dense_evidence_and_says_so(pages_lib):
    lib = pages_lib
    emb, index, galore = indexed_galore(lib)
    hits = similar_to(lib, galore, limit=5, index=index, mode="hybrid")
    assert hits and any(h.cosine is not None for h in hits)
    assert any("cosine" in r for h in hits for r in h.reasons)
    dense_only = similar_to(lib, galore, limit=5, index=index, mode="dense")
    assert [h.cosine for h in dense_only] == sorted((h.cosine for h in dense_only), reverse=True)


def _need_models() -> None:
    import os

    from paperradar.embed import models_dir

    if not (models_dir() / "manifest.json").is_file():
        if os.environ.get("CI"):
            pytest.fail("no embedding models: `make test` builds them")
        pytest.skip("no embedding models: run `make models`")


def test_facet_weights_follow_the_abstract():
    from paperradar.facets import facet_weights

    sents = [
        "Large language models are costly to train.",
        "We propose a low-rank projection of the gradients that cuts optimizer memory.",
        "Experiments show it outperforms LoRA by 3 points and reduces memory by 65%.",
    ]
    w = facet_weights(sents)
    assert int(w["background"].argmax()) == 0
    assert int(w["method"].argmax()) == 1
    assert int(w["result"].argmax()) == 2
    assert w and all(abs(v.sum() - 1.0) < 1e-9 for v in w.values())


def test_facet_transport_matches_facet_sentences_on_both_sides():
    import numpy as np

    from paperradar.facets import facet_scores

    background, method, other = np.eye(3, dtype=np.float32)
    query = np.stack([background, method])
    by_method = np.array([0.0, 1.0])  # the query's method sentence carries the facet
    shares_method = np.stack([other, method])
    shares_background = np.stack([background, other])
    scores = facet_scores(query, by_method, [shares_method, shares_background, np.zeros((0, 3))])
    assert scores[0] > 0.45 > 0.05 > scores[1] and scores[2] == 0.0  # uniform masses: half can match
    # the candidate's own weights count too: the same sentence scores less where it is not its method
    as_method, as_aside = [np.array([0.1, 0.9])], [np.array([0.9, 0.1])]
    assert facet_scores(query, by_method, [shares_method], as_method)[0] > 0.9
    assert facet_scores(query, by_method, [shares_method], as_aside)[0] < 0.15


def test_facet_of_a_paper_without_abstract_falls_back_to_the_whole_paper(lib):
    import json

    from paperradar.facets import SentenceVectors

    rows = [
        {"title": "Low-rank gradient projection for memory-efficient training"},
        {
            "title": "Gradient projection saves optimizer memory",
            "abstract": "Training is costly. We propose a low-rank gradient projection. It cuts memory by 65%.",
        },
        {
            "title": "Memory-efficient training by low-rank adapters",
            "abstract": "Adapters are popular. We train low-rank adapters on frozen weights. Memory drops.",
        },
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    import_source(lib, Source.from_text(text, "papers.jsonl"), "tabular_jsonl")
    pks = sorted(lib.list_pks())
    vectors = SentenceVectors(HashingEmbedder())
    plain = similar_to(lib, pks[0], mode="lexical")
    by_method = similar_to(lib, pks[0], mode="lexical", facet="method", sentence_vectors=vectors)
    assert [h.pk for h in by_method] == [h.pk for h in plain] and len(plain) == 2  # no abstract: no facet
    assert not any(r.startswith("close in its") for h in by_method for r in h.reasons)
    with_abstract = similar_to(lib, pks[1], mode="lexical", facet="method", sentence_vectors=vectors)
    assert {h.pk for h in with_abstract} == {pks[0], pks[2]}
    assert with_abstract and all(
        any(r.startswith("close in its method") for r in h.reasons) for h in with_abstract
    )


def test_facet_sentences_are_embedded_by_the_quality_tier():
    from paperradar.embed import load_embedder
    from paperradar.similar import default_sentence_vectors

    _need_models()
    vectors = default_sentence_vectors()
    assert vectors is not None and vectors.embedder.model_id == load_embedder("quality").model_id


def test_facet_through_the_api_and_the_paper_page(tmp_path):
    from web_helpers import client_for, demo_library, is_error

    _need_models()
    client = client_for(demo_library(tmp_path / "lib.db"))
    body = client.get("/api/papers/arxiv:2407.08296/similar?facet=method").json()
    assert body["ok"] and body["items"]
    assert body["items"] and all(
        any(r.startswith("close in its method") for r in i["reasons"]) for i in body["items"]
    )
    assert is_error(client.get("/api/papers/arxiv:2407.08296/similar?facet=vibes"), 400)
    html = {"accept": "text/html"}
    page = client.get("/paper/arxiv:2407.08296?facet=result&similar=1", headers=html).text
    assert "Similar papers by result" in page and "close in its results" in page
    plain = client.get("/paper/arxiv:2407.08296", headers=html).text
    assert "?facet=method" in plain  # the "similar by method" link


def test_near_best_is_the_cosine_to_the_best_candidates_itself_left_out():
    import numpy as np

    from paperradar.similar import near_best

    def unit(*xs):
        v = np.array(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    vectors = [unit(1, 0, 0), unit(1, 0.1, 0), unit(1, 0.2, 0), unit(0, 0, 1)]
    index = VectorIndex(np.array([1, 2, 3, 4]), np.stack(vectors), "test")
    order = [1, 2, 3, 4, 5]  # 5 has no vector
    near = near_best(index, order, np.array([5.0, 4.0, 3.0, 2.0, 1.0]), k=2)
    assert near[0] == pytest.approx(float(vectors[0] @ (vectors[1] + vectors[2])) / 2)  # not itself
    assert near[3] == pytest.approx(0.0, abs=1e-6) and near[4] == 0.0
    assert near[2] > 0.9 > near[3]  # like the best two, and unlike them


def test_facet_neighbours_rank_by_likeness_to_the_best_and_say_so(pages_lib):
    from paperradar.facets import SentenceVectors
    from paperradar.similar import FacetFusion

    lib = pages_lib
    emb, index, galore = indexed_galore(lib)
    vectors = SentenceVectors(emb)
    kw = {"limit": 8, "index": index, "facet": "method", "sentence_vectors": vectors}
    off = similar_to(lib, galore, facet_fusion=FacetFusion(neighbours=0.0), **kw)
    assert off and not any(r.startswith("like the best") for h in off for r in h.reasons)
    only = similar_to(lib, galore, facet_fusion=FacetFusion(0.0, 0.0, 0.0, neighbours=1e6), **kw)
    near = [
        float(r.split("cosine ")[1].split(" ")[0]) for h in only for r in h.reasons if r.startswith("like")
    ]
    assert len(near) == len(only) == 8 and near == sorted(near, reverse=True)  # ranked by it alone
    assert [h.pk for h in only] != [h.pk for h in off]


def test_facet_transport_of_all_candidates_at_once_equals_one_by_one():
    import numpy as np

    from paperradar.facets import facet_scores, transported_cosine

    rng = np.random.default_rng(7)
    base = rng.normal(size=(4, 16))  # sentences near a few shared directions, so the plan matters

    def sents(n):
        x = base[rng.integers(0, 4, size=n)] + 0.5 * rng.normal(size=(n, 16))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    query, weights = sents(5), np.array([0.4, 0.3, 0.1, 0.1, 0.1])
    cands = [sents(n) for n in (1, 7, 0, 3, 12)]
    masses = [rng.dirichlet(np.ones(len(c))) if len(c) else np.zeros(0) for c in cands]
    together = facet_scores(query, weights, cands, masses)
    alone = [
        transported_cosine(query, weights, c, m) if len(c) else 0.0
        for c, m in zip(cands, masses, strict=True)
    ]
    assert together == pytest.approx(alone, abs=1e-6) and together[2] == 0.0
    assert len(set(np.round(together, 3))) == 5  # distinct scores: a real comparison
