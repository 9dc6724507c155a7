"""Recognising the same paper across sources, and merging its records. Pure functions, no I/O.

Matching, in order (the first rule that finds a paper wins):
1. ids: any shared alias (arXiv id, arXiv DOI, DOI, PubMed or Semantic Scholar id), except a
   publisher DOI on two records whose titles clearly disagree (`titles_disagree`): a wrong DOI
   pasted into one record must not merge two different papers; the import reports it instead.
2. title: the same `title_key` (letters and digits only, so glued and spaced copies agree), and
   the records do not contradict each other: no two different arXiv ids, years at most one
   apart, and a shared author when both list authors (a long title alone is enough when one
   side lists no authors).
3. abstract: near-duplicate abstracts, for records that cannot be matched by id or title.
   Similarity is the containment of character 8-gram sets over letters only, so glued words and
   lost punctuation do not matter. At 0.8 or more (one is a prefix or a copy of the other) that
   is enough; from 0.5 (a lightly rewritten version) the records must also share a date or an
   author. On the sample pages unrelated abstracts stay below 0.15 and rewritten versions of one
   paper score 0.57-0.69.

Papers of one family (GaLore, Q-GaLore, GaLore 2, WeLore) have different titles and ids and
abstracts that share phrases but not text, so none of the rules joins them.

Merging chooses one value per field from the records by the rule in `choose_fields`
(documented in docs/formats.md); every record's own values stay stored beside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from numpy.lib.stride_tricks import sliding_window_view
from rapidfuzz import fuzz

from .models import PLAIN_FIELDS, PartialDate, preferred_date
from .normalize import author_key, title_key

if TYPE_CHECKING:
    from .storage.rows import RecordRow

# How much an importer's word counts when records disagree (higher wins).
IMPORTER_RANK = {
    "arxiv_atom": 100,
    "arxiv_snapshot": 90,
    "arxiv_oai": 90,
    "hf_daily": 80,
    "bibtex": 70,
    "ris": 70,
    "csljson": 70,
    "openalex": 70,
    "wos": 70,
    "zotero_json": 70,
    "json_papers": 60,
    "tabular_csv": 60,
    "tabular_jsonl": 60,
    "tabular_parquet": 60,
    "page_profile_feed": 50,
    "page_hf_papers": 50,
    "page_arxiv_listing": 50,
    "page_dataset_viewer": 40,
    "page_abstract_list": 30,
}

ABSTRACT_MATCH = 0.8  # containment of 8-gram sets that alone calls two abstracts the same
ABSTRACT_REWRITE = 0.5  # a rewritten version (a later arXiv version): needs the same date or an author
MIN_ABSTRACT_LETTERS = 150  # shorter abstracts are never matched on text alone
MIN_TITLE_KEY_ALONE = 25  # a title key this long may match without author evidence
_SHINGLE = 8
_LETTERS = re.compile(r"[^a-z]+")
_ARXIV_BASE = re.compile(r"^arxiv:(.+?)(v\d+)?$")


def record_key(importer: str, fields: dict[str, Any]) -> str:
    """A content address for one source record: the same record imported twice has the same key."""
    blob = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(importer.encode() + b"\x00" + blob, digest_size=16).hexdigest()


def arxiv_bases(ids: Iterable[str]) -> set[str]:
    out = set()
    for i in ids:
        m = _ARXIV_BASE.match(i)
        if m:
            out.add(m.group(1))
    return out


_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads the packed 8 letters over 64 bits


def abstract_signature(text: str | None) -> frozenset[int]:
    """Hashes of the character 8-grams of an abstract's letters (case and spacing ignored).

    Each 8-gram of a-z letters is packed into one 64-bit integer (exact, no collisions) and mixed
    by one multiplication, so sampling by `h % k` is fair. Deterministic across runs.
    """
    return frozenset(_hashes(text).tolist())


def abstract_sample(text: str | None, k: int) -> list[int]:
    """The hashes of `abstract_signature` divisible by `k`, without building the whole set (what a
    ShingleIndex keeps: loading a library's weak papers is 1/k of the work)."""
    h = _hashes(text)
    return np.unique(h[h % np.uint64(k) == 0]).tolist()


def _hashes(text: str | None) -> np.ndarray:
    if not text:
        return np.empty(0, dtype=np.uint64)
    letters = _LETTERS.sub("", text.lower())
    if len(letters) < MIN_ABSTRACT_LETTERS:
        return np.empty(0, dtype=np.uint64)
    grams = sliding_window_view(np.frombuffer(letters.encode("ascii"), dtype=np.uint8), _SHINGLE)
    packed = np.ascontiguousarray(grams).view(np.uint64).ravel()
    return packed * _MIX


def abstract_similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Containment of the smaller signature in the larger: 1.0 when one abstract is a prefix."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


class ShingleIndex:
    """Finds papers whose abstracts share text with a probe, without comparing against all.

    Keeps a consistent sample of each abstract's 8-gram hashes (those divisible by SAMPLE);
    two abstracts that share most of their text share most of their sampled hashes, so
    prefixes and rewrites are found, and unrelated abstracts rarely share MIN_SHARED.
    """

    SAMPLE = 8
    MIN_SHARED = 0.3  # of the smaller sample: well below the 0.5 containment that can match

    def __init__(self) -> None:
        self._postings: dict[int, list[int]] = {}
        self._sizes: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._sizes)

    def _sample(self, signature: frozenset[int]) -> list[int]:
        return [h for h in signature if h % self.SAMPLE == 0]

    def add(self, pk: int, signature: frozenset[int]) -> None:
        self.add_sample(pk, self._sample(signature))

    def add_sample(self, pk: int, sample: list[int]) -> None:
        """Index `pk` by its sample (`abstract_sample(text, SAMPLE)`)."""
        if pk in self._sizes:
            return
        self._sizes[pk] = len(sample)
        for h in sample:
            self._postings.setdefault(h, []).append(pk)

    def candidates(self, signature: frozenset[int]) -> list[int]:
        sample = self._sample(signature)
        counts: dict[int, int] = {}
        for h in sample:
            for pk in self._postings.get(h, ()):
                counts[pk] = counts.get(pk, 0) + 1
        need = self.MIN_SHARED
        return [pk for pk, n in counts.items() if n >= max(2, need * min(len(sample), self._sizes[pk]))]


@dataclass
class Candidate:
    """What matching needs to know of a paper already in the library (or earlier in the batch)."""

    pk: int
    ids: set[str]
    title_key: str
    authors: list[str]
    year: int | None
    abstract: str | None = None
    dates: set[str] = field(default_factory=set)
    _sig: frozenset[int] | None = field(default=None, repr=False)

    @property
    def author_keys(self) -> set[str]:
        return {author_key(a) for a in self.authors} - {""}

    @property
    def signature(self) -> frozenset[int]:
        if self._sig is None:
            self._sig = abstract_signature(self.abstract)
        return self._sig


@dataclass
class Probe:
    """The matching view of an incoming record."""

    ids: set[str]
    title_key: str
    authors: list[str]
    year: int | None
    abstract: str | None
    dates: set[str] = field(default_factory=set)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Probe:
        dates = fields.get("dates", {})
        return cls(
            ids=set(fields.get("ids", ())),
            title_key=title_key(fields.get("title")),
            authors=[a["name"] for a in fields.get("authors", ())],
            year=year_of(dates, fields.get("ids", ())),
            abstract=fields.get("abstract"),
            dates=set(dates.values()),
        )

    @property
    def author_keys(self) -> set[str]:
        return {author_key(a) for a in self.authors} - {""}

    @cached_property
    def signature(self) -> frozenset[int]:
        return abstract_signature(self.abstract)


def year_of(dates: dict[str, str], ids: Iterable[str] = ()) -> int | None:
    """The year of `preferred_date` (ISO strings in, as records and papers keep them)."""
    date = preferred_iso(dates, ids)
    return int(date[:4]) if date else None


def preferred_iso(dates: dict[str, str], ids: Iterable[str] = ()) -> str | None:
    """`models.preferred_date` over ISO strings: the date a paper is sorted and filtered by."""
    parsed = {}
    for kind, text in dates.items():
        try:
            parsed[kind] = PartialDate.from_iso(text)
        except ValueError:
            continue
    date = preferred_date(parsed, ids)
    return date.iso() if date else None


TITLE_DISAGREE = 50  # below this rapidfuzz ratio of title keys (and no containment) titles differ


def titles_disagree(probe: Probe, cand: Candidate) -> bool:
    """Both have titles, and they are not the same title: not equal, not one a prefix or part of the
    other (a subtitle dropped), and less than half alike. "GaLore" and "GaLore: Memory-Efficient
    LLM Training" agree; two papers that share a mistyped DOI do not."""
    a, b = probe.title_key, cand.title_key
    if not a or not b or a == b or a in b or b in a:
        return False
    return fuzz.ratio(a, b) < TITLE_DISAGREE


def title_compatible(probe: Probe, cand: Candidate) -> bool:
    """Same title key and nothing that says they are different papers."""
    if not probe.title_key or probe.title_key != cand.title_key:
        return False
    return not contradicts(probe, cand, title_only=True)


def contradicts(probe: Probe, cand: Candidate, title_only: bool = False) -> bool:
    pa, ca = arxiv_bases(probe.ids), arxiv_bases(cand.ids)
    if pa and ca and not pa & ca:
        return True
    if probe.year and cand.year and abs(probe.year - cand.year) > 1:
        return True
    if probe.authors and cand.authors:
        return not probe.author_keys & cand.author_keys
    return title_only and len(probe.title_key) < MIN_TITLE_KEY_ALONE


def abstract_match(probe: Probe, cands: Iterable[Candidate]) -> Candidate | None:
    """The candidate whose abstract is a near-duplicate of the probe's, if any (best first)."""
    pool = list(cands)
    sig = probe.signature if pool else frozenset()
    if not sig:
        return None
    best, best_sim = None, 0.0
    for cand in pool:
        if cand.title_key and probe.title_key and cand.title_key != probe.title_key:
            continue  # two different titles are two papers, however alike the abstracts
        sim = abstract_similarity(sig, cand.signature)
        if sim < ABSTRACT_REWRITE or sim <= best_sim or contradicts(probe, cand):
            continue
        if sim >= ABSTRACT_MATCH or _corroborated(probe, cand):
            best, best_sim = cand, sim
    return best


def _corroborated(probe: Probe, cand: Candidate) -> bool:
    """The same date (a year-less date agrees with any year) or a shared author."""
    if probe.authors and cand.authors and probe.author_keys & cand.author_keys:
        return True
    return any(_same_day(a, b) for a in probe.dates for b in cand.dates)


def _same_day(a: str, b: str) -> bool:
    if len(a) < 7 or len(b) < 7 or a[-5:] != b[-5:] or a[-3] != "-":
        return False  # needs month and day on both
    return a.startswith("-") or b.startswith("-") or a[:4] == b[:4]


# ---------------------------------------------------------------- merging


def preferred_id(ids: Iterable[str], fallback: str) -> str:
    """arXiv id without version, else a DOI, a PubMed id, any other id, else the fallback."""
    ids = sorted(set(ids))
    for prefix in ("arxiv:", "doi:", "pmid:", "s2:", "corpus:"):
        for i in ids:
            if i.startswith(prefix) and not (prefix == "arxiv:" and re.search(r"v\d+$", i)):
                return i
    return ids[0] if ids else fallback


def _rank(rec: RecordRow) -> tuple[int, str]:
    return IMPORTER_RANK.get(rec.importer, 10), rec.imported_at


def choose_fields(records: list[RecordRow]) -> tuple[dict[str, Any], dict[str, str]]:
    """One value per field from a paper's records: {field: value}, {field: record key}.

    Each record gives its key, importer, import time and fields. The rule per field:
    - abstract: a complete abstract beats a truncated one; then the longer (in steps of 200
      characters, so a later, fuller version wins over a short copy); then importer rank.
    - authors: a complete author list beats a partial one ("et al."); then the longer (in steps
      of 5 names); then importer rank.
    - author_count: the largest count a source stated ("10 authors" on a page that lists none).
    - dates: per kind (published, updated, listed, created), a date with a year beats one without;
      then a full date beats a partial one; then rank.
    - links: the union of every record's links, per kind, in rank order.
    - ids: the union of every record's ids.
    - every other field: the highest-ranked record that gives it; ties go to the latest import.
    """
    if len(records) == 1:  # the common case in bulk imports: every field from the one record
        return _single(records[0])
    ordered = sorted(records, key=_rank, reverse=True)
    chosen: dict[str, Any] = {}
    prov: dict[str, str] = {}

    def best(name: str, quality: Callable[[dict[str, Any]], Any] = lambda f: 0) -> None:
        givers = [r for r in ordered if r.fields.get(name) not in (None, "", [], {})]
        if givers:
            top = max(givers, key=lambda r: (quality(r.fields), *_rank(r)))
            chosen[name] = top.fields[name]
            prov[name] = top.key

    best("title")
    best("abstract", lambda f: (not f.get("abstract_truncated"), len(f["abstract"]) // 200))
    best("authors", lambda f: (f.get("authors_complete", True), len(f["authors"]) // 5))
    if "authors" in chosen:
        top = next(r for r in ordered if r.key == prov["authors"])
        chosen["authors_complete"] = top.fields.get("authors_complete", True)
    else:
        chosen["authors_complete"] = not any("author_count" in r.fields for r in ordered)
    counts = [r.fields["author_count"] for r in ordered if r.fields.get("author_count")]
    if counts:
        chosen["author_count"] = max(counts)
    for name in ("categories", *PLAIN_FIELDS):
        best(name)
    _choose_dates(ordered, chosen, prov)
    _union_links(ordered, chosen)
    ids: list[str] = []
    for r in ordered:
        ids.extend(i for i in r.fields.get("ids", ()) if i not in ids)
    chosen["ids"] = ids
    return chosen, prov


_NOT_CHOSEN = {"extra", "abstract_truncated", "authors_complete"}


def _single(only: RecordRow) -> tuple[dict[str, Any], dict[str, str]]:
    chosen = {k: v for k, v in only.fields.items() if k not in _NOT_CHOSEN}
    chosen.setdefault("ids", [])
    chosen["authors_complete"] = only.fields.get("authors_complete", True)
    prov = {k: only.key for k in chosen if k not in ("ids", "links", "dates", "authors_complete")}
    prov.update({f"dates.{k}": only.key for k in chosen.get("dates", ())})
    return chosen, prov


def _choose_dates(ordered: list[RecordRow], chosen: dict[str, Any], prov: dict[str, str]) -> None:
    dates: dict[str, str] = {}
    for kind in ("published", "updated", "listed", "created"):
        givers = [r for r in ordered if kind in r.fields.get("dates", {})]
        if not givers:
            continue

        def quality(r: RecordRow, kind: str = kind) -> tuple[bool, int, int, str]:
            d = r.fields["dates"][kind]
            return (d[:1].isdigit(), len(d), *_rank(r))

        top = max(givers, key=quality)
        dates[kind] = top.fields["dates"][kind]
        prov[f"dates.{kind}"] = top.key
    if dates:
        chosen["dates"] = dates


def _union_links(ordered: list[RecordRow], chosen: dict[str, Any]) -> None:
    links: dict[str, list[str]] = {}
    for r in ordered:
        for kind, urls in r.fields.get("links", {}).items():
            bucket = links.setdefault(kind, [])
            bucket.extend(u for u in urls if u not in bucket)
    if links:
        chosen["links"] = links
