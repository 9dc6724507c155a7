"""Telling apart the people behind one author name.

Common names cover several researchers. Papers by a name are first grouped by shared co-authors
(two papers with a co-author in common are very likely by the same person), then groups whose
topics are close (TF-IDF centroids, or embedding centroids after the name's mean vector is taken
away, since raw embeddings of any two papers are alike) or that share an arXiv category are
joined. A shared category lumps namesakes of a big field together, so a group still bigger than SPLIT_AT papers
(co-authors with common names chain different people together) is split by topic, k-means with
k by silhouette. Each remaining group is one candidate person. Pure; no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from ..normalize import author_key

TOPIC_JOIN = 0.1  # cosine of two groups' TF-IDF centroids from which they are one person
MEANING_JOIN = 0.5  # the same for centred embedding centroids
SPLIT_AT = 40  # papers in 16 months that few single researchers reach (the hold-out's unique-name rule)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _given(name: str) -> str:
    parts = re.findall(r"[A-Za-z][A-Za-z'-]*\.?", _fold(name))
    return parts[0] if len(parts) > 1 else ""


def same_name(query: str, name: str) -> bool:
    """Whether an author name can be the queried one: same last name and first initial, and the
    same given name when both spell it out ("Wei Wang" matches "W. Wang", not "Wen Wang")."""
    if not name or author_key(name) != author_key(query):
        return False
    a, b = _given(query), _given(name)
    if not a or not b or a.endswith(".") or b.endswith(".") or len(a) == 1 or len(b) == 1:
        return True
    return a.replace("-", "") == b.replace("-", "")


def group_papers(
    query: str,
    authors: Sequence[Sequence[str]],
    texts: Sequence[str],
    categories: Sequence[Sequence[str]] = (),
    dense: np.ndarray | None = None,
) -> list[list[int]]:
    """Indices of the papers, grouped by person, biggest group first."""
    if dense is not None and len(dense) > 1:
        dense = normalize(dense - dense.mean(axis=0))
    groups = _by_coauthors(query, authors)
    if len(groups) > 1:
        groups = _join_by_topic(groups, texts, categories, dense)
    groups = [part for g in groups for part in _split_if_big(g, texts, dense)]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def _split_if_big(group: list[int], texts: Sequence[str], dense: np.ndarray | None) -> list[list[int]]:
    if len(group) <= SPLIT_AT:
        return [group]
    from .interests import cluster_rows

    if dense is not None:
        space = dense[group]
    else:
        lex = _tfidf([texts[i] for i in group])
        if lex is None:
            return [group]
        space = lex.toarray()
    labels = cluster_rows(space, max_k=8)
    return [[group[i] for i in np.flatnonzero(labels == c)] for c in range(int(labels.max()) + 1)]


def _by_coauthors(query: str, authors: Sequence[Sequence[str]]) -> list[list[int]]:
    parent = list(range(len(authors)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, names in enumerate(authors):
        for name in names:
            key = author_key(name)
            if not key or same_name(query, name):
                continue
            if key in first_with:
                parent[find(i)] = find(first_with[key])
            else:
                first_with[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(authors)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _join_by_topic(
    groups: list[list[int]],
    texts: Sequence[str],
    categories: Sequence[Sequence[str]],
    dense: np.ndarray | None,
) -> list[list[int]]:
    """Join groups, repeatedly, while two of them look like one person's work: a shared arXiv
    category, similar words (TF-IDF centroids) or similar meaning (centred embedding centroids)."""
    lex = _tfidf(texts)
    cats = [{c.lower() for i in g for c in (categories[i] if i < len(categories) else ())} for g in groups]
    merged = True
    while merged and len(groups) > 1:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if cats[a] & cats[b] or _close(groups[a], groups[b], lex, dense):
                    groups[a] += groups.pop(b)
                    cats[a] |= cats.pop(b)
                    merged = True
                    break
            if merged:
                break
    return groups


def _tfidf(texts: Sequence[str]) -> Any:
    try:
        return normalize(TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts))
    except ValueError:  # no usable words at all
        return None


def _close(a: list[int], b: list[int], lex: Any, dense: np.ndarray | None) -> bool:
    if lex is not None and _cosine(lex[a].mean(axis=0), lex[b].mean(axis=0)) >= TOPIC_JOIN:
        return True
    return dense is not None and _cosine(dense[a].mean(axis=0), dense[b].mean(axis=0)) >= MEANING_JOIN


def _cosine(u: Any, v: Any) -> float:
    u, v = np.asarray(u).ravel(), np.asarray(v).ravel()
    den = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u @ v) / den if den else 0.0
