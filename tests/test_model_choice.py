"""One model choice (issue 18): which stored embedding model whole-library work uses. Topics and
semantic search's one-tier index both call index.main_model, so a library whose quality tier has
almost caught up with its fast tier clusters and searches on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from paperradar.errors import BackendUnavailable
from paperradar.index import main_model
from paperradar.topics.build import topic_model

FAST = "all-MiniLM-L6-v2/static-384@abc"
QUALITY = "all-MiniLM-L6-v2/onnx-int8@def"


@pytest.mark.parametrize(
    ("have", "chosen"),
    [
        ({}, None),
        ({FAST: 100}, FAST),
        ({QUALITY: 100}, QUALITY),
        ({FAST: 100, QUALITY: 100}, QUALITY),  # a tie goes to the quality tier
        ({FAST: 100, QUALITY: 98}, QUALITY),  # it covers 98% of what the fast tier covers
        ({FAST: 100, QUALITY: 97}, FAST),
        ({FAST: 10, QUALITY: 100}, QUALITY),
    ],
)
def test_the_quality_tier_wins_once_it_covers_nearly_every_paper(have, chosen):
    assert main_model(have) == chosen


def put(lib, model: str, pks: list[int]) -> None:
    row = np.ones(4, dtype=np.float32) / 2
    with lib.transaction():
        lib.put_embeddings(model, [(pk, f"h{pk}", row.tobytes()) for pk in pks])


def test_topics_use_the_quality_vectors_of_a_library_they_nearly_cover(lib):
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source

    lines = [f'{{"title": "Paper number {i}", "abstract": "About topic {i}."}}' for i in range(50)]
    import_source(lib, Source.from_bytes("\n".join(lines).encode(), "papers.jsonl"))
    with pytest.raises(BackendUnavailable, match="no embeddings yet"):
        topic_model(lib)
    pks = lib.list_pks(None)
    assert len(pks) == 50
    put(lib, FAST, pks)
    put(lib, QUALITY, pks[:49])  # 98%: topics no longer wait for the last paper
    assert topic_model(lib) == QUALITY == main_model(lib.embedding_models())
