"""Researcher profiles: made from an author's papers, a list of ids or any importable file
(authors.py, paper_refs.py), read, listed, deleted; their papers added and removed; taught by
feedback (like, dislike, not interested, undo), whose likes re-cluster their interests later
(interests.py); steered by hand in steering.py. The service the CLI, web app and digests share.
Does I/O through the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .authors import author_papers
from .errors import Conflict, InvalidInput
from .ingest import now_iso
from .interests import interests_changed, positives_and_negatives, refresh_interests
from .models import FEEDBACK_KINDS
from .paper_refs import ids_of, resolve_refs
from .storage import profiles as store
from .storage.base import Library
from .storage.profiles import Interest, ProfileRow


@dataclass
class FeedbackMark:
    paper: str  # paper id
    kind: str
    at: str


@dataclass
class Profile:
    pk: int
    name: str
    author: str | None
    created_at: str
    recommended_at: str | None
    papers: list[str]  # ids of the profile's own papers
    paper_pks: list[int]
    feedback: list[FeedbackMark] = field(default_factory=list)
    interests: list[Interest] = field(default_factory=list)
    seen: int = 0
    follows: list[str] = field(default_factory=list)  # authors whose new papers always surface
    rules: dict[str, list[str]] = field(default_factory=lambda: {"must": [], "exclude": []})
    threshold: float | None = None  # minimum percentile a recommendation needs (None: no minimum)


def create_profile(
    lib: Library,
    name: str,
    *,
    author: str | None = None,
    papers: Sequence[str | int] | None = None,
    pick: int | None = None,
) -> Profile:
    """A new profile from an author's papers and/or given papers (ids, aliases or pks); with
    neither it starts empty and learns from ratings (`recommend.papers_to_rate`).

    An author name that covers several people raises AmbiguousAuthor unless `pick` (1-based,
    from `author_candidates`) says which one."""
    name = _check_name(name)
    pks = resolve_refs(lib, papers or [])
    if author is not None:
        pks = author_papers(lib, author, pick) + pks
    if store.profile_exists(lib, name):
        raise Conflict(f"a profile named {name!r} exists already (add papers with `profile add`)")
    with lib.transaction():
        ppk = store.insert_profile(lib, name, author, now_iso())
        store.add_papers(lib, ppk, list(dict.fromkeys(pks)), now_iso())
    refresh_interests(lib, ppk)
    return get_profile(lib, name)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c in name for c in "\n\r\t/"):
        raise InvalidInput(f"bad profile name {name!r}: 1-100 characters, no '/' or line breaks")
    return name


def list_profiles(lib: Library) -> list[Profile]:
    return [get_profile(lib, n) for n in store.profile_names(lib)]


def profile_names(lib: Library) -> list[str]:
    """The names of the profiles the viewer may see, sorted without regard to case (cheap: a page
    that only lists them must not load every profile's papers and feedback)."""
    return store.profile_names(lib)


def find_profile(lib: Library, name: str) -> ProfileRow:
    """A profile's stored row: its pk, its name as stored (names match without regard to case),
    its interests (cheap: none of its papers, feedback or seen marks). NotFound when there is none."""
    return store.profile_row(lib, name)


def get_profile(lib: Library, name: str) -> Profile:
    """A profile by name (NotFound when there is none)."""
    row = store.profile_row(lib, name)
    pks = store.paper_pks(lib, row.pk)
    marks = store.feedback(lib, row.pk)  # read once: a like landing meanwhile must not break this
    ids = ids_of(lib, pks + [f.paper_pk for f in marks])
    return Profile(
        pk=row.pk,
        name=row.name,
        author=row.author,
        created_at=row.created_at,
        recommended_at=row.recommended_at,
        papers=[ids[pk] for pk in pks],
        paper_pks=pks,
        feedback=[FeedbackMark(ids[f.paper_pk], f.kind, f.created_at) for f in marks],
        interests=list(row.interests),
        seen=len(store.seen_pks(lib, row.pk)),
        follows=store.follows(lib, row.pk),
        rules=store.rules(lib, row.pk),
        threshold=row.threshold,
    )


def delete_profile(lib: Library, name: str) -> None:
    row = store.profile_row(lib, name)
    with lib.transaction():
        store.delete_profile(lib, row.pk)


def add_papers(lib: Library, name: str, refs: Sequence[str | int]) -> Profile:
    row = store.profile_row(lib, name)
    pks = resolve_refs(lib, refs)
    with lib.transaction():
        store.add_papers(lib, row.pk, pks, now_iso())
    refresh_interests(lib, row.pk)
    return get_profile(lib, name)


def remove_papers(lib: Library, name: str, refs: Sequence[str | int]) -> Profile:
    row = store.profile_row(lib, name)
    pks = resolve_refs(lib, refs)
    with lib.transaction():
        store.remove_papers(lib, row.pk, pks)
    refresh_interests(lib, row.pk)
    return get_profile(lib, name)


def give_feedback(lib: Library, name: str, ref: str | int, kind: str) -> FeedbackMark:
    """Record like, dislike or not_interested for a paper. Disliked and not-interesting papers are
    never recommended again and teach the learner what to avoid; liked ones join the positives at
    once (the next ranking counts them). When the positives change (a like, or a dislike of a
    paper that was liked or is the profile's own) the interests are re-clustered later, never here
    (`interests_changed`)."""
    kind = kind.replace("-", "_")
    if kind not in FEEDBACK_KINDS:
        raise InvalidInput(f"feedback must be one of {', '.join(FEEDBACK_KINDS)}, not {kind!r}")
    row = store.profile_row(lib, name)
    pk = resolve_refs(lib, [ref])[0]
    was_positive = kind != "like" and _is_positive(lib, row.pk, pk)  # a dislike takes it away
    now = now_iso()
    with lib.transaction():
        store.add_feedback(lib, row.pk, pk, kind, now)
        store.mark_seen(lib, row.pk, [pk], now)
    if kind == "like" or was_positive:
        interests_changed(lib, row.name)
    return FeedbackMark(lib.paper_row(pk).id, kind, now)


def undo_feedback(lib: Library, name: str) -> FeedbackMark | None:
    """Take back the profile's latest feedback; returns it (None when there was none)."""
    row = store.profile_row(lib, name)
    with lib.transaction():
        gone = store.pop_feedback(lib, row.pk)
        if gone is not None and gone.paper_pk not in store.current_feedback(lib, row.pk):
            store.unsee(lib, row.pk, [gone.paper_pk])  # so it can be recommended again
    if gone is None:
        return None
    if gone.kind == "like" or _is_positive(lib, row.pk, gone.paper_pk):  # an undone dislike gives it back
        interests_changed(lib, row.name)
    return FeedbackMark(lib.paper_row(gone.paper_pk).id, gone.kind, gone.created_at)


def _is_positive(lib: Library, profile_pk: int, pk: int) -> bool:
    """Whether the paper is among the profile's positives (its papers and likes, less rejections)."""
    positive, _ = positives_and_negatives(lib, profile_pk)
    return pk in positive


def mark_seen(lib: Library, profile: str | Profile, pks: Sequence[int]) -> None:
    """Remember that the profile was shown these papers: they are not recommended again."""
    ppk = profile.pk if isinstance(profile, Profile) else store.profile_row(lib, profile).pk
    with lib.transaction():
        store.mark_seen(lib, ppk, list(pks), now_iso())


def profile_json(profile: Profile) -> dict[str, Any]:
    """The documented JSON shape of a profile (docs/cli.md, "profile")."""
    return {
        "name": profile.name,
        "author": profile.author,
        "created_at": profile.created_at,
        "recommended_at": profile.recommended_at,
        "papers": profile.papers,
        "interests": [{"name": i.name, "terms": i.terms, "papers": i.papers} for i in profile.interests],
        "feedback": [{"paper": f.paper, "kind": f.kind, "at": f.at} for f in profile.feedback],
        "seen": profile.seen,
        "follows": profile.follows,
        "rules": profile.rules,
        "threshold": profile.threshold,
    }
