"""Recommendations for a profile, each with its reasons.

Candidates are the papers new since the profile's last recommendation (or dated in a window), a
given list (`among`), or a search's results (`query`). A per-profile learner (rank/learner.py)
scores them over TF-IDF and embedding features; each result names the interest it serves, the
profile papers it is closest to and the words that drove it. Seen and dismissed papers never
come back; results are spread across the profile's interests. Does I/O through the library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse

from . import profiles as prof
from .errors import InvalidInput
from .ingest import now_iso
from .models import Paper
from .papers import load_paper
from .profiles import mark_seen as mark_seen  # part of this module's interface (digests, web)
from .rank import learner
from .rank.interests import assign, spread
from .storage import profiles as store
from .storage.sqlite import SQLiteLibrary

RANDOM_NEGATIVES = 5000  # random library papers used as negatives (Scholar Inbox uses ~5k)
FIRST_WINDOW_DAYS = 7  # with no earlier recommendation: papers added to the library this recently
QUERY_DEPTH = 300  # search results ranked for --query
MAX_WINDOW = 20_000  # a window's newest papers ranked at most (keeps a first run on a big library quick)
CONFIG = learner.LearnerConfig()


@dataclass
class Recommendation:
    paper: Paper
    score: float  # in (0, 1), higher is better
    interest: str | None
    reasons: list[str] = field(default_factory=list)
    nearest: list[str] = field(default_factory=list)  # ids of the closest profile papers
    terms: list[str] = field(default_factory=list)


def recommend(
    lib: SQLiteLibrary,
    profile_name: str,
    *,
    since: str | None = None,
    days: int | None = None,
    among: Sequence[int] | None = None,
    query: str | None = None,
    limit: int = 20,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    threshold: float | None = None,
    mark_seen: bool = True,
) -> list[Recommendation]:
    """The best papers for a profile, best first (spread across its interests), with reasons.

    Candidates: `among` (exactly these pks), else `query` (its search results), else the papers
    dated from `since` or in the last `days`, else those added since the last recommendation.
    Papers the profile dismissed (dislike, not interested) never come back; outside `among`,
    neither do papers already seen or the profile's own. `include`: keep papers that mention any
    of these words; `exclude`: drop papers that mention any. `threshold`: minimum score."""
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    profile = prof.get_profile(lib, profile_name)
    positives, negatives = prof.positives_and_negatives(lib, profile.pk)
    window = among is None and query is None
    pool = _candidates(lib, profile, since, days, among, query)
    pool = _filtered(lib, profile.pk, pool, positives, negatives, keep_seen=among is not None)
    pool = _keyword_filtered(lib, pool, include, exclude)
    recs = rank(lib, profile, positives, negatives, pool, limit, threshold)
    now = now_iso()
    with lib.transaction():
        if mark_seen and recs:
            store.mark_seen(lib, profile.pk, [lib.resolve(r.paper.id) for r in recs], now)
        if window and mark_seen:
            store.set_recommended_at(lib, profile.pk, now)
    return recs


def _candidates(
    lib: SQLiteLibrary,
    profile: prof.Profile,
    since: str | None,
    days: int | None,
    among: Sequence[int] | None,
    query: str | None,
) -> list[int]:
    if among is not None:
        return list(dict.fromkeys(among))
    if query is not None:
        from .index import best_index
        from .search import search

        mode = "hybrid" if best_index(lib) is not None else "keyword"
        return [lib.resolve(h.paper.id) for h in search(lib, query, mode=mode, limit=QUERY_DEPTH).hits]
    if since is not None and days is not None:
        raise InvalidInput("give --since or --days, not both")
    if since is not None:
        return store.papers_dated_since(lib, _check_date(since))[:MAX_WINDOW]
    if days is not None:
        return store.papers_dated_since(lib, (date.today() - timedelta(days=days)).isoformat())[:MAX_WINDOW]
    start = profile.recommended_at or (datetime.now(UTC) - timedelta(days=FIRST_WINDOW_DAYS)).isoformat(
        timespec="seconds"
    )
    return store.papers_added_since(lib, start)[:MAX_WINDOW]


def _check_date(text: str) -> str:
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text.strip()):
        raise InvalidInput(f"--since wants a date like 2024, 2024-10 or 2024-10-13, not {text!r}")
    return text.strip()


def _filtered(
    lib: SQLiteLibrary,
    profile_pk: int,
    pool: list[int],
    positives: list[int],
    negatives: list[int],
    keep_seen: bool,
) -> list[int]:
    drop = set(negatives)
    if not keep_seen:
        drop |= store.seen_pks(lib, profile_pk) | set(positives)
    return [pk for pk in pool if pk not in drop]


def _keyword_filtered(
    lib: SQLiteLibrary, pool: list[int], include: Sequence[str], exclude: Sequence[str]
) -> list[int]:
    inc = [_word_pattern(w) for w in include if w.strip()]
    exc = [_word_pattern(w) for w in exclude if w.strip()]
    if not inc and not exc:
        return pool
    texts = dict(zip(pool, prof.paper_texts(lib, pool), strict=True))
    return [
        pk
        for pk in pool
        if (not inc or any(p.search(texts[pk]) for p in inc)) and not any(p.search(texts[pk]) for p in exc)
    ]


def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word.strip()) + r"(?!\w)", re.IGNORECASE)


# ---------------------------------------------------------------- scoring


@dataclass
class _Space:
    """Feature rows of every paper involved, in one TF-IDF + embedding space."""

    pks: list[int]
    rows: sparse.csr_matrix
    names: np.ndarray  # the lexical block's terms
    at: dict[int, int]

    def of(self, pks: Sequence[int]) -> sparse.csr_matrix:
        return self.rows[[self.at[pk] for pk in pks]]


def _space(lib: SQLiteLibrary, pks: list[int], cfg: learner.LearnerConfig) -> _Space:
    texts = prof.paper_texts(lib, pks)
    vec = learner.fit_vectorizer(texts, cfg)
    rows = learner.features(vec.transform(texts), prof.dense_rows(lib, pks), cfg)
    return _Space(pks, rows, vec.get_feature_names_out(), {pk: i for i, pk in enumerate(pks)})


def rank(
    lib: SQLiteLibrary,
    profile: prof.Profile,
    positives: list[int],
    negatives: list[int],
    pool: list[int],
    limit: int,
    threshold: float | None,
) -> list[Recommendation]:
    """Score `pool` for the profile and explain the best `limit`, spread across interests."""
    if not pool:
        return []
    if not positives:
        raise InvalidInput(f"profile {profile.name!r} has no papers to learn from: add some or like some")
    avoid = set(positives) | set(negatives) | set(pool)
    randoms = store.random_pks(lib, RANDOM_NEGATIVES, avoid, seed=profile.pk)
    space = _space(lib, list(dict.fromkeys(positives + negatives + randoms + pool)), CONFIG)
    model = learner.fit(space.of(positives), space.of(negatives), space.of(randoms), CONFIG)
    scores = learner.probability(model.decision(space.of(pool)))
    keep = [i for i in range(len(pool)) if threshold is None or scores[i] >= threshold]
    groups, names = _interest_of(lib, profile, space, [pool[i] for i in keep])
    chosen = [keep[j] for j in spread([scores[i] for i in keep], list(groups), limit)]
    group_at = {keep[j]: groups[j] for j in range(len(keep))}
    return [
        _explain(lib, space, model, pool[i], float(scores[i]), names.get(group_at[i]), positives)
        for i in chosen
    ]


def _interest_of(
    lib: SQLiteLibrary, profile: prof.Profile, space: _Space, pks: list[int]
) -> tuple[np.ndarray, dict[int, str]]:
    """Each paper's nearest interest (index) and the interests' names."""
    members = [[lib.resolve(i) for i in it.papers] for it in profile.interests]
    members = [[pk for pk in m if pk in space.at] for m in members]
    live = [(it.name, m) for it, m in zip(profile.interests, members, strict=True) if m]
    if not live or not pks:
        return np.zeros(len(pks), dtype=int), {}
    cents = np.vstack([np.asarray(space.of(m).mean(axis=0)).ravel() for _, m in live])
    groups, _ = assign(space.of(pks).toarray(), cents)
    return groups, {i: name for i, (name, _) in enumerate(live)}


def _explain(
    lib: SQLiteLibrary,
    space: _Space,
    model: learner.Model,
    pk: int,
    score: float,
    interest: str | None,
    positives: list[int],
) -> Recommendation:
    paper = load_paper(lib, pk, with_sources=False)
    row = space.of([pk])
    terms = learner.driving_terms(model, row, space.names)
    near = learner.nearest(row, space.of(positives), k=2)[0]
    near_papers = [load_paper(lib, positives[i], with_sources=False) for i, _ in near]
    reasons = []
    if interest:
        reasons.append(f"serves your interest: {interest}")
    for p, (_, cos) in zip(near_papers, near, strict=True):
        reasons.append(f"close to your paper “{_short(p.title or p.id)}” (similarity {cos:.2f})")
    if terms:
        reasons.append("driven by the words: " + ", ".join(terms))
    return Recommendation(paper, score, interest, reasons, [p.id for p in near_papers], terms)


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    """One result as documented in docs/cli.md ("recommend")."""
    from .search import paper_date

    p = rec.paper
    return {
        "id": p.id,
        "ids": p.ids,
        "title": p.title,
        "authors": [a.name for a in p.authors],
        "date": paper_date(p),
        "categories": p.categories,
        "links": p.links,
        "score": round(rec.score, 4),
        "interest": rec.interest,
        "reasons": rec.reasons,
        "nearest": rec.nearest,
        "terms": rec.terms,
    }
