"""Which papers a big library's ranking features hold rows for: what rankings use, not every paper.

A ranking reads the rows of the profile's papers and marks, of the candidates, and of the papers
first in the id-hash order (the vocabulary's fitting sample, the reference papers and the sampled
negatives: rank/model_cache.py). At millions of papers, rows for every paper would cost minutes of
CPU per million to build and gigabytes to hold (3M dense rows alone are 4.6 GB), so from
`WORKING_SET_FROM` papers the features hold rows for

- the first `HASH_ROWS` papers in id-hash order (the vocabulary's fitting sample, every sampled
  negative and reference paper, with room for a profile's own papers, which are left out of them),
- the newest `RECENT` papers by row id (the default window: papers added since the last
  recommendation) and by date (`--days`, `--since`),
- every paper a profile holds or has marked,

and rank/ready.py makes a row on the spot (kept in memory) for any other paper a request needs.
The rows are the same as a full build's: the same vocabulary (fitted on the same sample) and the
same reference and negative papers, so rankings are identical. Does I/O: reads the library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ..storage.base import Library

if TYPE_CHECKING:
    from ..embed import Embedder

WORKING_SET_FROM = 200_000  # papers from which the features hold a working set, not every paper
HASH_ROWS = 60_000  # papers first in id-hash order that get rows: the vocabulary's fitting sample here
# (smaller libraries fit on up to features.FIT_SAMPLE), the sampled negatives and the reference papers
RECENT = 20_000  # newest papers by row id and by date that get rows (recommend's MAX_WINDOW)


def scope_of(key: list[object]) -> str:
    """The features' scope for a library of this key (features.library_key: its count first)."""
    return "working" if int(str(key[0])) >= WORKING_SET_FROM else "library"


def hash_keys(ids: Iterable[str], seed: str = "negatives") -> np.ndarray:
    """Each id's sort key in features.id_hash_order: its blake2b digest, as a big-endian uint64."""
    digests = b"".join(hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest() for i in ids)
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def first_by_hash(keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest keys in id_hash_order's order (ties by index, as its stable sort)."""
    if k >= len(keys):
        return np.argsort(keys, kind="stable")
    cut = np.partition(keys, k - 1)[k - 1]
    below = np.flatnonzero(keys <= cut)
    return below[np.argsort(keys[below], kind="stable")][:k]


def hash_first_pks(lib: Library, k: int) -> np.ndarray:
    """The pks of the first k papers of the library in id-hash order, in that order."""
    pks, keys = [], []
    for chunk in lib.pk_id_chunks(100_000):
        pks.append(np.fromiter((p for p, _ in chunk), dtype=np.int64, count=len(chunk)))
        keys.append(hash_keys(i for _, i in chunk))
    if not pks:
        return np.zeros(0, dtype=np.int64)
    all_pks, all_keys = np.concatenate(pks), np.concatenate(keys)
    order = np.argsort(all_pks, kind="stable")  # id_hash_order ranks rows in pk order
    all_pks, all_keys = all_pks[order], all_keys[order]
    return all_pks[first_by_hash(all_keys, k)]


def working_set(lib: Library) -> tuple[np.ndarray, np.ndarray]:
    """The pks the features hold rows for (ascending) and, as row indices into them, the first
    HASH_ROWS papers in id-hash order (the features' hash order)."""
    first = hash_first_pks(lib, HASH_ROWS)
    pks = np.asarray(
        sorted(set(first.tolist()) | lib.newest_pks(RECENT) | lib.profile_paper_pks()), dtype=np.int64
    )
    return pks, np.searchsorted(pks, first)


def model_vectors(lib: Library, pks: np.ndarray, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """One model's stored vector of each of these papers (pks ascending; zero rows where it has
    none) and a mask of those that have one."""
    out = np.zeros((len(pks), int(embedder.dim)), dtype=np.float32)
    have = np.zeros(len(pks), dtype=bool)
    for pk, model_id, blob in lib.any_vectors_of(pks.tolist()):
        if model_id == embedder.model_id and len(blob) == 4 * out.shape[1]:
            i = int(np.searchsorted(pks, pk))
            out[i], have[i] = np.frombuffer(blob, dtype=np.float32), True
    return out, have
