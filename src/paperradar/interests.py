"""A profile's interests: its positive papers (own papers and likes, less what it rejected)
clustered into named groups, and when to re-cluster them: after a like, its undo or a reset, in the
web server's background worker (rank/regroup.py) or, without one, before the next ranking.
Does I/O through the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import NotFound
from .paper_refs import ids_of
from .rank import interests as ranking
from .storage import profiles as store
from .storage.base import Library
from .storage.profiles import Interest

if TYPE_CHECKING:
    from .profiles import Profile

NEGATIVE_KINDS = ("dislike", "not_interested")


def positives_and_negatives(lib: Library, profile_pk: int) -> tuple[list[int], list[int]]:
    """The papers the profile is about (its papers and likes) and the ones it rejected."""
    marks = store.current_feedback(lib, profile_pk)
    negative = [pk for pk, k in marks.items() if k in NEGATIVE_KINDS]
    own = store.paper_pks(lib, profile_pk) + [pk for pk, k in marks.items() if k == "like"]
    positive = [pk for pk in dict.fromkeys(own) if pk not in set(negative)]
    return positive, negative


def interests_changed(lib: Library, name: str) -> None:
    """The profile's positives changed (a like, its undo, a reset): the web server's background
    worker re-clusters its interests soon (rank/regroup.py); without one (the CLI), the next
    ranking does (`settle_interests`). Never clusters here, so a like answers at once."""
    from .rank import regroup

    worker = regroup.worker_for(lib.path)
    if worker is not None:
        worker.ask(name)


def interests_stale(profile: Profile) -> bool:
    """Whether the interests group other papers than the profile's positives (papers and likes,
    less those later rejected) now are: after a like, its undo or a reset, until re-clustered."""
    latest = {f.paper: f.kind for f in profile.feedback}  # oldest first: the last mark counts
    liked = [p for p, k in latest.items() if k == "like"]
    positive = {p for p in [*profile.papers, *liked] if latest.get(p) not in NEGATIVE_KINDS}
    return positive != {p for i in profile.interests for p in i.papers}


def settle_interests(lib: Library, profile: Profile) -> bool:
    """Before a ranking: out-of-date interests are re-clustered in the background where a web
    server runs a worker (this ranking uses the old ones, the new likes as one more group of
    nearest-neighbour evidence), else now, once however many likes came since. True when they
    were re-clustered here."""
    from .rank import regroup

    if not interests_stale(profile):
        return False
    worker = regroup.worker_for(lib.path)
    if worker is not None:
        worker.ask(profile.name)
        return False
    refresh_interests(lib, profile.pk)
    return True


def regroup_if_stale(lib: Library, name: str) -> None:
    """The background worker's job for one profile: re-cluster it if it is out of date (a profile
    deleted meanwhile is let be)."""
    from .profiles import get_profile

    try:
        profile = get_profile(lib, name)
    except NotFound:
        return
    if interests_stale(profile):
        refresh_interests(lib, profile.pk)


def refresh_interests(lib: Library, profile_pk: int) -> None:
    """Cluster the profile's positive papers into interests (on their dense rows when the library
    has embeddings, else their TF-IDF rows) and name them by their keyphrases. Uses the features
    that exist, never builds the library's (rank/ready.py). A positive without a features row
    joins the first interest: the interests hold exactly the positives (`interests_stale`)."""
    from .rank.ready import features_for

    pks, _ = positives_and_negatives(lib, profile_pk)
    found: list[Interest] = []
    if pks:
        feats = features_for(lib, pks, sample=0)
        rows = feats.rows(pks)
        rowless = [pk for pk, r in zip(pks, rows, strict=True) if r < 0]
        pks = [pk for pk, r in zip(pks, rows, strict=True) if r >= 0]
        rows = rows[rows >= 0]
        lex = feats.lexical[rows]
        dense = feats.dense[rows] if feats.dense is not None else None
        usable = dense is not None and bool((np.linalg.norm(dense, axis=1) > 0).all())
        # without vectors: the words these papers use, kept sparse (k-means and the silhouette then
        # cost what the papers' words cost, not what the vocabulary's 20,000 columns would)
        space = dense if usable and dense is not None else lex
        ids = ids_of(lib, pks + rowless)
        for c in ranking.build_clusters(space, lex, feats.names):
            found.append(Interest(c.name, c.terms, [ids[pks[i]] for i in c.members]))
        if rowless:
            first = found[0] if found else Interest("general", [], [])
            found[:1] = [Interest(first.name, first.terms, first.papers + [ids[pk] for pk in rowless])]
    with lib.transaction():
        store.set_interests(lib, profile_pk, found)
