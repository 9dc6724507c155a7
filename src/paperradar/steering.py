"""Steering a profile by hand: followed authors (their new papers always surface), keyword rules
(must, exclude), a score threshold, and forgetting what it learned (reset).
Does I/O through the library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import InvalidInput, NotFound
from .ingest import now_iso
from .interests import interests_changed
from .profiles import Profile, get_profile
from .storage import profiles as store
from .storage.base import Library


def follow(lib: Library, name: str, author: str) -> Profile:
    """Follow an author: their new papers always surface, marked as such."""
    author = " ".join(author.split())
    if not re.search(r"[^\W\d_]", author) or len(author) > 200:
        raise InvalidInput(f"bad author name {author!r}")
    row = store.profile_row(lib, name)
    with lib.transaction():
        store.add_follow(lib, row.pk, author, now_iso())
    return get_profile(lib, name)


def unfollow(lib: Library, name: str, author: str) -> Profile:
    row = store.profile_row(lib, name)
    with lib.transaction():
        if not store.remove_follow(lib, row.pk, " ".join(author.split())):
            raise NotFound(f"profile {name!r} does not follow {author!r}")
    return get_profile(lib, name)


RULE_KINDS = ("must", "exclude")


def add_rule(lib: Library, name: str, kind: str, word: str) -> Profile:
    """A keyword rule: `must` keeps only papers that mention one of the must-words; `exclude`
    drops papers that mention the word. Words match whole words, case-insensitively."""
    word = " ".join(word.split())
    if kind not in RULE_KINDS:
        raise InvalidInput(f"a rule is one of {', '.join(RULE_KINDS)}, not {kind!r}")
    if not word or len(word) > 100:
        raise InvalidInput("a rule needs a word or phrase of 1-100 characters")
    row = store.profile_row(lib, name)
    with lib.transaction():
        store.add_rule(lib, row.pk, kind, word, now_iso())
    return get_profile(lib, name)


def remove_rule(lib: Library, name: str, kind: str, word: str) -> Profile:
    row = store.profile_row(lib, name)
    with lib.transaction():
        if not store.remove_rule(lib, row.pk, kind, " ".join(word.split())):
            raise NotFound(f"profile {name!r} has no {kind} rule {word!r}")
    return get_profile(lib, name)


def set_threshold(lib: Library, name: str, value: float | None) -> Profile:
    """The minimum percentile (0-1: the share of the library a paper must beat) a
    recommendation needs; None removes it. With a threshold, a quiet day says "nothing good"."""
    if value is not None and not 0.0 <= value < 1.0:
        raise InvalidInput("the threshold is a percentile between 0 and 1 (e.g. 0.99)")
    row = store.profile_row(lib, name)
    with lib.transaction():
        store.set_threshold(lib, row.pk, value)
    return get_profile(lib, name)


RESETTABLE = ("feedback", "seen", "follows", "rules", "threshold")


def reset_profile(lib: Library, name: str, what: Sequence[str]) -> Profile:
    """Forget what the profile learned: its feedback, the papers it has seen, followed authors,
    keyword rules or threshold (its own papers stay)."""
    bad = [w for w in what if w not in RESETTABLE]
    if bad or not what:
        raise InvalidInput(f"reset one or more of {', '.join(RESETTABLE)}")
    row = store.profile_row(lib, name)
    pk = row.pk
    with lib.transaction():
        if "feedback" in what:
            store.unsee(lib, pk, store.clear_feedback(lib, pk))
        if "seen" in what:
            store.clear_seen(lib, pk)
        if "follows" in what:
            for author in store.follows(lib, pk):
                store.remove_follow(lib, pk, author)
        if "rules" in what:
            for kind, words in store.rules(lib, pk).items():
                for word in words:
                    store.remove_rule(lib, pk, kind, word)
        if "threshold" in what:
            store.set_threshold(lib, pk, None)
    if "feedback" in what:
        interests_changed(lib, row.name)
    return get_profile(lib, name)
