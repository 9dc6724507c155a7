"""A profile's fitted model over the library's features, cached per process until the profile,
its feedback, its interests or the library change (so the web home page and digests fit once).

Training rows come from rank/features.py: the profile's papers and likes (positives, newer ones
weighing more), its dislikes and not-interested marks (explicit negatives), and the library
papers that come first in the features' id-hash order (random negatives and the reference
papers scores are scaled against): the same on every run and machine, whatever the row ids.
Does I/O through the library (reads only).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..storage import profiles as store
from ..storage.base import Library
from . import learner
from .features import Features
from .ready import features_for

if TYPE_CHECKING:
    from ..profiles import Profile

CONFIG = learner.LearnerConfig()


@dataclass
class Scored:
    pks: np.ndarray  # the candidates that have features, in the order given
    score: np.ndarray  # z-scale: standard deviations above a random library paper
    percentile: np.ndarray  # share of the library's reference papers scoring below
    interest: np.ndarray  # index of the best interest (-1: none)


@dataclass
class FittedProfile:
    model: learner.Model
    feats: Features
    positives: list[int]  # pks
    interest_names: list[str | None]

    def score(self, pks: Sequence[int]) -> Scored:
        rows = self.feats.rows(pks)
        ok = rows >= 0
        rows = rows[ok]
        dense = self.feats.dense[rows] if self.feats.dense is not None else self.feats.lexical[rows]
        ev = self.model.rank_pool(self.feats.lexical[rows], dense)  # the pks are ranked together
        return Scored(
            np.asarray(pks, dtype=np.int64)[ok], ev.score, self.model.percentile(ev.score), ev.interest
        )

    def interest_name(self, index: int) -> str | None:
        return self.interest_names[index] if 0 <= index < len(self.interest_names) else None

    def nearest(self, pk: int, k: int = 2) -> list[tuple[int, float]]:
        """The profile papers closest to a paper (dense rows when there are, else words)."""
        rows = self.feats.rows([pk, *self.positives])
        if rows[0] < 0:
            return []
        own = [(p, r) for p, r in zip(self.positives, rows[1:], strict=True) if r >= 0]
        if not own:
            return []
        if self.feats.dense is not None:
            row, refs = self.feats.dense[rows[0]], self.feats.dense[[r for _, r in own]]
        else:
            row = self.feats.lexical[rows[0]].toarray().ravel()
            refs = self.feats.lexical[[r for _, r in own]].toarray()
        return [(own[i][0], sim) for i, sim in learner.nearest(row, refs, k)]

    def terms(self, pk: int, k: int = 5) -> list[str]:
        r = self.feats.rows([pk])[0]
        return [] if r < 0 else learner.driving_terms(self.model, self.feats.lexical[r], self.feats.names, k)


_CACHE: dict[tuple[str, int], tuple[object, FittedProfile]] = {}
_LOCK = threading.Lock()


def profile_model(
    lib: Library,
    profile: Profile,
    positives: list[int],
    negatives: list[int],
    pool: Sequence[int] = (),
) -> FittedProfile:
    """The profile's fitted model, from the cache when nothing it depends on changed. The
    features are those that exist (rank/ready.py: never built here), with rows for `pool`."""
    feats = features_for(lib, [*positives, *negatives, *pool])
    pk = int(profile.pk)
    interests = [(i.name, i.papers) for i in profile.interests]
    stamp = (store.state_stamp(lib, pk), json.dumps(interests), feats.key, feats.dense_key, CONFIG)
    with _LOCK:
        hit = _CACHE.get((lib.path, pk))
        if hit is not None and hit[0] == stamp and not feats.partial:
            hit[1].feats = feats  # the same vocabulary and vectors, perhaps with rows made since
            return hit[1]
    fitted = fit_profile(lib, feats, positives, negatives, interests)
    if lib.path != ":memory:" and not feats.partial:
        with _LOCK:
            _CACHE[(lib.path, pk)] = (stamp, fitted)
    return fitted


def fit_profile(
    lib: Library,
    feats: Features,
    positives: list[int],
    negatives: list[int],
    interests: list[tuple[str, list[str]]],
    cfg: learner.LearnerConfig = CONFIG,
) -> FittedProfile:
    """Fit the learner on the profile's rows (positives, explicit negatives, sampled negatives)."""
    pos_rows = feats.rows(positives)
    positives = [p for p, r in zip(positives, pos_rows, strict=True) if r >= 0]
    pos_rows = pos_rows[pos_rows >= 0]
    rej_rows = feats.rows(negatives)
    rej_rows = rej_rows[rej_rows >= 0]
    ref_rows, neg_rows = sample_rows(feats, set(pos_rows.tolist()) | set(rej_rows.tolist()), cfg)
    groups, names = _groups(lib, positives, interests)
    d = feats.dense if feats.dense is not None else feats.lexical
    data = learner.TrainingSet(
        pos_lex=feats.lexical[pos_rows],
        pos_weights=learner.recency_weights(_ages(lib, positives), cfg.half_life_days),
        neg_lex=feats.lexical[neg_rows],
        rej_lex=feats.lexical[rej_rows],
        ref_lex=feats.lexical[ref_rows],
        pos_dense=d[pos_rows],
        pos_groups=groups,
        rej_dense=d[rej_rows],
        ref_dense=d[ref_rows],
    )
    return FittedProfile(learner.fit(data, cfg), feats, positives, names)


def sample_rows(
    feats: Features, avoid: set[int], cfg: learner.LearnerConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The reference rows and the negative rows: the first papers in id-hash order, the
    profile's own and rejected papers left out."""
    order = feats.hash_order if feats.hash_order is not None else np.arange(len(feats.pks))
    if avoid:
        order = order[~np.isin(order, np.fromiter(avoid, dtype=np.int64))]
    ref = order[: min(cfg.reference, len(order) // 4)]
    neg = order[len(ref) : len(ref) + cfg.negatives]
    return np.sort(ref), np.sort(neg)


def _groups(
    lib: Library, positives: list[int], interests: list[tuple[str, list[str]]]
) -> tuple[np.ndarray, list[str | None]]:
    """Each positive's interest index; positives in no interest form one more, unnamed group."""
    at: dict[int, int] = {}
    for g, (_, ids) in enumerate(interests):
        for pk in _pks_of(lib, ids):
            at.setdefault(pk, g)
    names: list[str | None] = [n for n, _ in interests]
    groups = np.array([at.get(pk, len(names)) for pk in positives], dtype=int)
    if (groups == len(names)).any():
        names.append(None)
    return groups, names


def _pks_of(lib: Library, ids: list[str]) -> list[int]:
    out = []
    for i in ids:
        try:
            out.append(lib.resolve(i))
        except Exception:  # a paper removed since the interests were named
            continue
    return out


def _ages(lib: Library, pks: list[int]) -> list[float]:
    """Days each paper is older than the newest of them (0 when its date is unknown)."""
    dates = {pk: _day(d) for pk, d in lib.paper_dates(pks).items()}
    known = [d for d in dates.values() if d is not None]
    newest = max(known) if known else None
    out = []
    for pk in pks:
        d = dates.get(pk)
        out.append(float((newest - d).days) if newest is not None and d is not None else 0.0)
    return out


def _day(text: str | None) -> date | None:
    if not text or not text[:4].isdigit():
        return None
    parts = [*text.split("-"), "01", "01"]
    try:
        return date(int(parts[0]), int(parts[1] or 1), int(parts[2][:2] or 1))
    except ValueError:
        return None


def forget() -> None:
    """Drop every cached model (tests, and after a bulk change)."""
    with _LOCK:
        _CACHE.clear()
