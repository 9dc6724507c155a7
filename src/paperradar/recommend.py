"""Recommendations for a profile, each with structured reasons.

Candidates are the papers new since the profile's last recommendation (or dated in a window), a
given list (`among`), or a search's results (`query`). They are scored by the profile's model
(rank/learner.py) over the library's ready features (rank/features.py); the model is fitted once
and cached until the profile, its feedback or the library changes. Papers by followed authors
always surface first; keyword rules keep or drop papers; a threshold (a percentile of the
library) can leave a quiet day empty; results are spread across the profile's interests. Seen
and dismissed papers never come back. Does I/O through the library.

`recommend()` keeps the signature the web home page, digests and the CLI call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from . import profiles as prof
from .authors import paper_texts
from .errors import InvalidInput
from .ingest import now_iso
from .interests import positives_and_negatives, settle_interests
from .models import Paper, paper_date
from .papers import load_paper
from .profiles import mark_seen as mark_seen  # part of this module's interface (digests, web)
from .rank import model_cache
from .rank.interests import spread
from .rank.people import same_name
from .rank.reasons import Reason, reason_text
from .storage import profiles as store
from .storage.base import Library

__all__ = [
    "Reason",
    "Recommendation",
    "papers_to_rate",
    "rate",
    "reason_text",
    "recommend",
    "recommendation_json",
    "score_text",
]

FIRST_WINDOW_DAYS = 7  # with no earlier recommendation: papers added to the library this recently
QUERY_DEPTH = 300  # search results ranked for --query
MAX_WINDOW = 20_000  # a window's newest papers ranked at most (keeps a first run on a big library quick)


@dataclass
class Recommendation:
    paper: Paper
    score: float  # the share of the library this paper outranks for the profile, in [0, 1]
    interest: str | None
    why: list[Reason] = field(default_factory=list)
    strength: float = 0.0  # standard deviations above a random library paper
    followed: bool = False  # by an author the profile follows

    @property
    def reasons(self) -> list[str]:
        """The reasons as sentences (one renderer for CLI, web and email: `reason_text`)."""
        return [reason_text(r) for r in self.why]

    @property
    def nearest(self) -> list[str]:
        return [str(r.values["paper"]) for r in self.why if r.kind == "nearest_paper"]

    @property
    def terms(self) -> list[str]:
        return [str(w) for r in self.why if r.kind == "terms" for w in r.values["words"]]


def recommend(
    lib: Library,
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
    """The best papers for a profile, best first (followed authors first, then spread across its
    interests), with structured reasons.

    Candidates: `among` (exactly these pks), else `query` (its search results), else the papers
    dated from `since` or in the last `days`, else those added since the last recommendation.
    Papers the profile dismissed (dislike, not interested) never come back; outside `among`,
    neither do papers already seen or the profile's own. `include`/`exclude` add to the profile's
    keyword rules (must / exclude). `threshold`: minimum score (a percentile, 0-1), else the
    profile's own threshold; an empty list then means nothing good today."""
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    profile = settled_profile(lib, profile_name)
    positives, negatives = positives_and_negatives(lib, profile.pk)
    window = among is None and query is None
    pool = _candidates(lib, profile, since, days, among, query)
    pool = _filtered(lib, profile.pk, pool, positives, negatives, keep_seen=among is not None)
    must = [*profile.rules["must"], *include]
    pool, matched = _keyword_filtered(lib, pool, must, [*profile.rules["exclude"], *exclude])
    cut = threshold if threshold is not None else profile.threshold
    recs = rank(lib, profile, positives, negatives, pool, limit, cut, matched)
    now = now_iso()
    with lib.transaction():
        if mark_seen and recs:
            store.mark_seen(lib, profile.pk, [lib.resolve(r.paper.id) for r in recs], now)
        if window and mark_seen:
            store.set_recommended_at(lib, profile.pk, now)
    return recs


def settled_profile(lib: Library, name: str) -> prof.Profile:
    """The profile, its interests first brought up to date where that is cheap to do here: in the
    web server a background worker re-clusters them (interests.settle_interests)."""
    profile = prof.get_profile(lib, name)
    return prof.get_profile(lib, name) if settle_interests(lib, profile) else profile


def _candidates(
    lib: Library,
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
        return store.papers_dated_since(lib, _check_date(since), MAX_WINDOW)
    if days is not None:
        return store.papers_dated_since(lib, (date.today() - timedelta(days=days)).isoformat(), MAX_WINDOW)
    start = profile.recommended_at or (datetime.now(UTC) - timedelta(days=FIRST_WINDOW_DAYS)).isoformat(
        timespec="seconds"
    )
    return store.papers_added_since(lib, start, MAX_WINDOW)


def _check_date(text: str) -> str:
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text.strip()):
        raise InvalidInput(f"--since wants a date like 2024, 2024-10 or 2024-10-13, not {text!r}")
    return text.strip()


def _filtered(
    lib: Library,
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
    lib: Library, pool: list[int], must: Sequence[str], exclude: Sequence[str]
) -> tuple[list[int], dict[int, str]]:
    """Papers that mention one of the must-words (when there are any) and none of the excluded
    ones; and for each kept paper, the must-word it mentions."""
    inc = [(w.strip(), _word_pattern(w)) for w in must if w.strip()]
    exc = [_word_pattern(w) for w in exclude if w.strip()]
    if not inc and not exc:
        return pool, {}
    texts = dict(zip(pool, paper_texts(lib, pool), strict=True))
    kept, matched = [], {}
    for pk in pool:
        if any(p.search(texts[pk]) for p in exc):
            continue
        hit = next((w for w, p in inc if p.search(texts[pk])), None)
        if inc and hit is None:
            continue
        kept.append(pk)
        if hit is not None:
            matched[pk] = hit
    return kept, matched


def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word.strip()) + r"(?!\w)", re.IGNORECASE)


# ---------------------------------------------------------------- scoring


def rank(
    lib: Library,
    profile: prof.Profile,
    positives: list[int],
    negatives: list[int],
    pool: list[int],
    limit: int,
    threshold: float | None,
    matched: dict[int, str] | None = None,
) -> list[Recommendation]:
    """Score `pool` for the profile and explain the best `limit`: papers by followed authors
    first, then the rest spread across interests; below `threshold` nothing is shown."""
    if not pool:
        return []
    if not positives:
        raise InvalidInput(
            f"profile {profile.name!r} has no papers to learn from: add some, like some, "
            f"or rate ten with `paperradar profile rate {profile.name}`"
        )
    fitted = model_cache.profile_model(lib, profile, positives, negatives, pool)
    scored = fitted.score(pool)
    followed = _followed(lib, profile.follows, scored.pks)
    order = [i for i in np.argsort(-scored.score, kind="stable") if int(scored.pks[i]) in followed]
    rest = [
        i
        for i in range(len(scored.pks))
        if int(scored.pks[i]) not in followed and (threshold is None or scored.percentile[i] >= threshold)
    ]
    picked = order[:limit] + [
        rest[j]
        for j in spread(
            [float(scored.score[i]) for i in rest],
            [int(scored.interest[i]) for i in rest],
            limit - len(order[:limit]),
        )
    ]
    return [_explain(lib, fitted, scored, i, followed, matched or {}) for i in picked]


def _followed(lib: Library, follows: list[str], pks: np.ndarray) -> dict[int, str]:
    """Candidates written by a followed author: pk -> the author's name as followed."""
    if not follows or not len(pks):
        return {}
    out: dict[int, str] = {}
    lasts = [(f, f.split()[-1].lower()) for f in follows]
    for pk, authors in _author_lists(lib, [int(p) for p in pks]).items():
        for name in authors:
            hit = next((f for f, last in lasts if last in name.lower() and same_name(f, name)), None)
            if hit:
                out[pk] = hit
                break
    return out


def _author_lists(lib: Library, pks: list[int]) -> dict[int, list[str]]:
    return lib.author_names(pks)


def _explain(
    lib: Library,
    fitted: model_cache.FittedProfile,
    scored: model_cache.Scored,
    i: int,
    followed: dict[int, str],
    matched: dict[int, str],
) -> Recommendation:
    pk = int(scored.pks[i])
    paper = load_paper(lib, pk, with_sources=False)
    why: list[Reason] = []
    if pk in followed:
        why.append(Reason("followed_author", {"author": followed[pk]}))
    interest = fitted.interest_name(int(scored.interest[i]))
    if interest:
        why.append(Reason("interest", {"name": interest}))
    for near_pk, sim in fitted.nearest(pk, k=2):
        p = lib.paper_row(near_pk)
        why.append(
            Reason(
                "nearest_paper",
                {"paper": p.id, "title": p.title, "similarity": round(sim, 3)},
            )
        )
    words = fitted.terms(pk)
    if words:
        why.append(Reason("terms", {"words": words}))
    if pk in matched:
        why.append(Reason("keyword_rule", {"kind": "must", "word": matched[pk]}))
    return Recommendation(
        paper,
        float(scored.percentile[i]),
        interest,
        why,
        strength=float(scored.score[i]),
        followed=pk in followed,
    )


# ---------------------------------------------------------------- cold start

RATE_POOL = 5000  # the newest papers the ten to rate are chosen from


def papers_to_rate(lib: Library, profile_name: str, n: int = 10) -> list[Paper]:
    """Papers for the profile to rate ("rate these 10"), chosen to teach the most: uncertain for
    its model and unlike each other; for an empty profile, papers spread over the library's
    newest. Papers it has seen or rated are never offered again."""
    from .rank.coldstart import spread_out, uncertain_and_diverse
    from .rank.ready import features_for

    profile = settled_profile(lib, profile_name)
    positives, negatives = positives_and_negatives(lib, profile.pk)
    drop = store.seen_pks(lib, profile.pk) | set(positives) | set(negatives)
    pool = [pk for pk in store.papers_dated_since(lib, "0", RATE_POOL + len(drop)) if pk not in drop]
    pool = pool[:RATE_POOL]
    feats = features_for(lib, [*pool, *positives, *negatives])
    rows = feats.rows(pool)
    pool = [pk for pk, r in zip(pool, rows, strict=True) if r >= 0]
    rows = rows[rows >= 0]
    space = feats.dense[rows] if feats.dense is not None else feats.lexical[rows].toarray()
    if not positives:
        picked = spread_out(space, n)
    else:
        fitted = model_cache.profile_model(lib, profile, positives, negatives, pool)
        scored = fitted.score(pool)
        margin = fitted.model.lexical(fitted.feats.lexical[fitted.feats.rows(pool)])
        picked = uncertain_and_diverse(space, scored.score, margin, n)
    return [load_paper(lib, pool[i], with_sources=False) for i in picked]


def rate(lib: Library, profile_name: str, ratings: dict[str | int, str]) -> int:
    """Record ratings ({paper: "like" | "dislike" | "not_interested"}) at once: the next
    recommendation is trained on them. Returns how many were recorded."""
    for ref, kind in ratings.items():
        prof.give_feedback(lib, profile_name, ref, kind)
    return len(ratings)


def score_text(score: float) -> str:
    """A recommendation's score for people: "top 0.2%" of the library for this profile."""
    top = max(0.0, 1.0 - score) * 100
    if top < 0.01:
        return "top 0.01%"
    digits = max(0, -math.floor(math.log10(top))) if top < 1 else 0
    return f"top {top:.{digits}f}%"


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    """One result as documented in docs/cli.md ("recommend")."""
    p = rec.paper
    return {
        "id": p.id,
        "ids": p.ids,
        "title": p.title,
        "authors": [a.name for a in p.authors],
        "date": paper_date(p),
        "categories": p.categories,
        "links": p.links,
        "score": round(rec.score, 6),
        "strength": round(rec.strength, 3),
        "followed": rec.followed,
        "interest": rec.interest,
        "why": [r.as_json() for r in rec.why],
        "reasons": rec.reasons,
        "nearest": rec.nearest,
        "terms": rec.terms,
    }
