"""Topics of a subset of the library (a search result, a profile's papers), made on the spot and not
stored: the same clustering and labels as a full build, over just those papers. Does I/O (reads)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..storage import topics as db
from ..storage.base import Library
from . import cluster, labels
from .build import paper_texts, topic_models

SHOW = 5


def cluster_papers(lib: Library, pks: list[int], k: int | None = None) -> list[dict[str, Any]]:
    """Group these papers into `k` labelled topics (default about sqrt(n/2), 2 to 12), biggest first,
    each with its most central papers. Papers without an embedding are left out."""
    found = _best_vectors(lib, list(dict.fromkeys(pks)))
    have = [pk for pk in dict.fromkeys(pks) if pk in found]
    if len(have) < 2:
        raise InvalidInput(f"need at least 2 embedded papers to group, found {len(have)}")
    k = min(k or max(2, min(12, round(math.sqrt(len(have) / 2)))), len(have))
    vectors = np.stack([found[pk] for pk in have])
    of, centroids = cluster.fine_clusters(vectors, k)
    sizes = np.bincount(of, minlength=len(centroids))
    x, vocab = labels.vectorize(paper_texts(lib, np.asarray(have)))
    terms = labels.label_topics(labels.class_counts(x, of, len(centroids)), sizes, vocab)
    scores = np.einsum("nd,nd->n", vectors, centroids[of])
    titles = db.paper_titles(lib, have)
    out = []
    for c in np.argsort(-sizes):
        members = np.flatnonzero(of == c)
        best = members[np.argsort(-scores[members])][:SHOW]
        papers = [{"id": titles[have[i]][0], "title": titles[have[i]][1]} for i in best]
        out.append(
            {"label": labels.label_of(terms[c]), "terms": terms[c], "size": int(sizes[c]), "papers": papers}
        )
    return out


def _best_vectors(lib: Library, pks: list[int]) -> dict[int, np.ndarray]:
    """The best vector each of these papers has, of the models a build reads (build.topic_models)."""
    out: dict[int, np.ndarray] = {}
    for model_id in topic_models(lib):
        for pk, blob in lib.vectors_of(model_id, [pk for pk in pks if pk not in out]):
            out[pk] = np.frombuffer(blob, dtype=np.float32)
    return out
