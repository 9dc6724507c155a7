"""Finding a researcher's papers: the people in the library who share an author name, told
apart by their co-authors, topics and the vectors of their papers (rank/people.py groups them),
and the papers of the one a profile is made for.
Does I/O through the library (and the embedder, when the library has an index).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from .embed import text_for
from .errors import InvalidInput, NotFound
from .rank.people import group_papers, same_name
from .stopwords import STOP_WORDS
from .storage import profiles as store
from .storage.base import Library
from .storage.profiles import AuthorPaper

EMBED_ON_THE_FLY = 2000  # papers without vectors embedded at once at most (else left out of dense features)


@dataclass
class AuthorCandidate:
    """One person behind an author name: their papers in the library and what tells them apart."""

    index: int  # 1-based, for `--pick`
    name: str  # the spelling used most
    papers: list[str]
    paper_pks: list[int]
    coauthors: list[str]
    topics: list[str]
    categories: list[str]
    years: tuple[int | None, int | None]


class AmbiguousAuthor(InvalidInput):
    """The name covers several people; `candidates` lists them (pick one with `pick`)."""

    def __init__(self, name: str, candidates: list[AuthorCandidate]):
        self.candidates = candidates
        super().__init__(
            f"{name!r} matches {len(candidates)} different people in the library; "
            "choose one with --pick N (see the candidates listed)"
        )


def author_candidates(lib: Library, name: str) -> list[AuthorCandidate]:
    """The people in the library with this name, most papers first (empty when none)."""
    words = re.findall(r"[^\W\d_][\w'-]*", name)
    if not words:
        raise InvalidInput(f"author name {name!r} has no letters")
    rows = [r for r in store.author_rows(lib, words[-1]) if any(same_name(name, a) for a in r.authors)]
    groups = group_papers(
        name,
        [r.authors for r in rows],
        [text_for(r.title, r.abstract) for r in rows],
        [r.categories for r in rows],
        dense_rows(lib, [r.pk for r in rows]) if rows else None,
    )
    return [_candidate(n, name, [rows[i] for i in g]) for n, g in enumerate(groups, start=1)]


def _candidate(index: int, name: str, rows: list[AuthorPaper]) -> AuthorCandidate:
    spellings = Counter(a for r in rows for a in r.authors if same_name(name, a))
    co = Counter(a for r in rows for a in r.authors if not same_name(name, a))
    cats = Counter(c for r in rows for c in r.categories[:1])
    words = Counter(
        w.lower()
        for r in rows
        for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", r.title or "")
        if w.lower() not in _TITLE_STOP
    )
    years = sorted(int(r.date[:4]) for r in rows if r.date and r.date[:4].isdigit())
    return AuthorCandidate(
        index=index,
        name=spellings.most_common(1)[0][0],
        papers=[r.id for r in rows],
        paper_pks=[r.pk for r in rows],
        coauthors=[a for a, _ in co.most_common(5)],
        topics=[w for w, _ in words.most_common(5)],
        categories=[c for c, _ in cats.most_common(3)],
        years=(years[0] if years else None, years[-1] if years else None),
    )


_TITLE_STOP = STOP_WORDS  # words that say nothing of what an author works on (stopwords.py)


def candidate_json(c: AuthorCandidate) -> dict[str, Any]:
    return {
        "pick": c.index,
        "name": c.name,
        "papers": len(c.papers),
        "paper_ids": c.papers,
        "coauthors": c.coauthors,
        "topics": c.topics,
        "categories": c.categories,
        "years": list(c.years),
    }


def author_papers(lib: Library, author: str, pick: int | None) -> list[int]:
    """The papers of the person named `author` (`pick`: which one, 1-based, when several share the
    name; AmbiguousAuthor without it). NotFound when nobody has this name."""
    cands = author_candidates(lib, author)
    if not cands:
        raise NotFound(f"no papers by {author!r} in the library")
    if pick is not None:
        if not 1 <= pick <= len(cands):
            raise InvalidInput(f"--pick must be between 1 and {len(cands)} for {author!r}")
        return cands[pick - 1].paper_pks
    if len(cands) > 1:
        raise AmbiguousAuthor(author, cands)
    return cands[0].paper_pks


def paper_texts(lib: Library, pks: list[int]) -> list[str]:
    got = {pk: (title, abstract) for pk, title, abstract in lib.paper_texts_of(pks)}
    return [text_for(*got.get(pk, (None, None))) for pk in pks]


def dense_rows(lib: Library, pks: list[int]) -> np.ndarray | None:
    """Embedding rows for these papers from the library's best index (papers not yet embedded are
    embedded now, up to EMBED_ON_THE_FLY; beyond that they get zero rows). None without an index."""
    from .index import best_index

    found = best_index(lib)
    if found is None:
        return None
    index, embedder = found
    out = np.zeros((len(pks), embedder.dim), dtype=np.float32)
    todo = []
    for i, pk in enumerate(pks):
        v = index.vector_of(pk)
        if v is None:
            todo.append(i)
        else:
            out[i] = v
    if todo and len(todo) <= EMBED_ON_THE_FLY:
        texts = paper_texts(lib, [pks[i] for i in todo])
        out[todo] = np.asarray(embedder.embed_batch(texts), dtype=np.float32)
    return out
