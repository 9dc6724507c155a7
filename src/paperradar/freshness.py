"""When a remembered page is out of date: cheap fingerprints of the library, of a profile and of
its digests, and which shown papers the profile has since acted on. The web's page caches
(web/cache.py, home.py, digest.py) compare these instead of recomputing anything.
Does I/O: reads SQL through storage/freshness.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from .storage import Library
from .storage import freshness as store


def library_state(lib: Library) -> str:
    """Changes when papers are added, merged or changed, or embeddings change."""
    return store.library_state(lib)


def profile_state(lib: Library, profile_pk: int) -> str:
    """Changes when the library gains papers or embeddings, or the profile changes (feedback,
    papers, interests, papers marked seen)."""
    return store.profile_state(lib, profile_pk)


def digest_preview_state(lib: Library, profile_pk: int, profile: str) -> str:
    """Changes when a digest preview of the profile would: the profile's state, or a digest of it
    stored, sent or retried."""
    return store.profile_state(lib, profile_pk) + store.digest_state(lib, profile)


def acted_on(lib: Library, profile_pk: int, pks: Sequence[int]) -> set[int]:
    """Which of `pks` the profile has seen or given feedback on."""
    return store.seen_among(lib, profile_pk, pks)
