"""Recognising the same paper across sources, and merging its records. Pure functions, no I/O.

Matching, in order (the first rule that finds a paper wins):
1. ids: any shared alias (arXiv id, arXiv DOI, DOI, Semantic Scholar id).
2. title: the same `title_key` (letters and digits only, so glued and spaced copies agree), and
   the records do not contradict each other: no two different arXiv ids, years at most one
   apart, and a shared author when both list authors (a long title alone is enough when one
   side lists no authors).
3. abstract: near-duplicate abstracts (one a prefix of the other, or lightly rewritten), for
   records that cannot be matched by id or title. Similarity is the containment of character
   8-gram sets over letters only, so glued words and lost punctuation do not matter.

Papers of one family (GaLore, Q-GaLore, GaLore 2, WeLore) have different titles and ids and
abstracts that share phrases but not text, so none of the rules joins them.

Merging chooses one value per field from the records by the rule in `choose_fields`
(documented in docs/formats.md); every record's own values stay stored beside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .normalize import author_key, title_key

# How much an importer's word counts when records disagree (higher wins).
IMPORTER_RANK = {
    "arxiv_atom": 100,
    "arxiv_snapshot": 90,
    "enrich": 95,
    "hf_daily": 80,
    "bibtex": 70,
    "ris": 70,
    "tabular_csv": 60,
    "tabular_jsonl": 60,
    "tabular_parquet": 60,
    "page_profile_feed": 50,
    "page_hf_papers": 50,
    "page_arxiv_listing": 50,
    "page_dataset_viewer": 40,
    "page_abstract_list": 30,
}

ABSTRACT_MATCH = 0.8  # containment of 8-gram sets needed to call two abstracts the same
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


def abstract_signature(text: str | None) -> frozenset[int]:
    """Hashes of the character 8-grams of an abstract's letters (case and spacing ignored)."""
    if not text:
        return frozenset()
    letters = _LETTERS.sub("", text.lower())
    if len(letters) < MIN_ABSTRACT_LETTERS:
        return frozenset()
    return frozenset(hash(letters[i : i + _SHINGLE]) for i in range(0, len(letters) - _SHINGLE + 1))


def abstract_similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Containment of the smaller signature in the larger: 1.0 when one abstract is a prefix."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


@dataclass
class Candidate:
    """What matching needs to know of a paper already in the library (or earlier in the batch)."""

    pk: int
    ids: set[str]
    title_key: str
    authors: list[str]
    year: int | None
    abstract: str | None = None
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

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Probe:
        return cls(
            ids=set(fields.get("ids", ())),
            title_key=title_key(fields.get("title")),
            authors=[a["name"] for a in fields.get("authors", ())],
            year=year_of(fields.get("dates", {})),
            abstract=fields.get("abstract"),
        )

    @property
    def author_keys(self) -> set[str]:
        return {author_key(a) for a in self.authors} - {""}

    @property
    def signature(self) -> frozenset[int]:
        return abstract_signature(self.abstract)


def year_of(dates: dict[str, str]) -> int | None:
    for kind in ("published", "created", "listed", "updated"):
        d = dates.get(kind)
        if d and d[:1].isdigit():
            return int(d[:4])
    return None


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
    best, best_sim = None, ABSTRACT_MATCH
    for cand in pool:
        if cand.title_key and probe.title_key and cand.title_key != probe.title_key:
            continue  # two different titles are two papers, however alike the abstracts
        sim = abstract_similarity(sig, cand.signature)
        if sim >= best_sim and not contradicts(probe, cand):
            best, best_sim = cand, sim
    return best


# ---------------------------------------------------------------- merging


def preferred_id(ids: Iterable[str], fallback: str) -> str:
    """arXiv id without version, else a DOI, else any other id, else the fallback."""
    ids = sorted(set(ids))
    for prefix in ("arxiv:", "doi:", "s2:", "corpus:"):
        for i in ids:
            if i.startswith(prefix) and not (prefix == "arxiv:" and re.search(r"v\d+$", i)):
                return i
    return ids[0] if ids else fallback


def _rank(rec: dict[str, Any]) -> tuple[int, str]:
    return IMPORTER_RANK.get(rec["importer"], 10), rec["imported_at"]


def choose_fields(records: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """One value per field from a paper's records: {field: value}, {field: record key}.

    Each record is {"key", "importer", "imported_at", "fields"}. The rule per field:
    - abstract: a complete abstract beats a truncated one; then importer rank; then the longer.
    - authors: a complete author list beats a partial one ("et al."); then rank; then the longer.
    - dates: per kind (published, updated, listed, created), a date with a year beats one without;
      then a full date beats a partial one; then rank.
    - links: the union of every record's links, per kind, in rank order.
    - ids: the union of every record's ids.
    - every other field: the highest-ranked record that gives it; ties go to the latest import.
    """
    if len(records) == 1:  # the common case in bulk imports: every field from the one record
        only = records[0]
        chosen = {k: v for k, v in only["fields"].items() if k not in _NOT_CHOSEN}
        chosen.setdefault("ids", [])
        if "authors" in chosen:
            chosen["authors_complete"] = only["fields"].get("authors_complete", True)
        prov = {k: only["key"] for k in chosen if k not in ("ids", "links", "dates", "authors_complete")}
        prov.update({f"dates.{k}": only["key"] for k in chosen.get("dates", ())})
        return chosen, prov
    ordered = sorted(records, key=_rank, reverse=True)
    chosen: dict[str, Any] = {}
    prov: dict[str, str] = {}

    def best(name: str, quality=lambda f: 0) -> None:  # type: ignore[no-untyped-def]
        givers = [r for r in ordered if r["fields"].get(name) not in (None, "", [], {})]
        if givers:
            top = max(givers, key=lambda r: (quality(r["fields"]), *_rank(r)))
            chosen[name] = top["fields"][name]
            prov[name] = top["key"]

    best("title")
    best("abstract", lambda f: (not f.get("abstract_truncated"), len(f["abstract"]) // 200))
    best("authors", lambda f: (f.get("authors_complete", True), len(f["authors"]) // 5))
    if "authors" in chosen:
        top = next(r for r in ordered if r["key"] == prov["authors"])
        chosen["authors_complete"] = top["fields"].get("authors_complete", True)
    for name in ("categories", "comment", "organisation", "upvotes", "score", "venue"):
        best(name)
    _choose_dates(ordered, chosen, prov)
    _union_links(ordered, chosen)
    ids: list[str] = []
    for r in ordered:
        ids.extend(i for i in r["fields"].get("ids", ()) if i not in ids)
    chosen["ids"] = ids
    return chosen, prov


_NOT_CHOSEN = {"extra", "abstract_truncated", "author_count", "authors_complete"}


def _choose_dates(ordered: list[dict[str, Any]], chosen: dict[str, Any], prov: dict[str, str]) -> None:
    dates: dict[str, str] = {}
    for kind in ("published", "updated", "listed", "created"):
        givers = [r for r in ordered if kind in r["fields"].get("dates", {})]
        if not givers:
            continue

        def quality(r: dict[str, Any], kind: str = kind) -> tuple[bool, int, int, str]:
            d = r["fields"]["dates"][kind]
            return (d[:1].isdigit(), len(d), *_rank(r))

        top = max(givers, key=quality)
        dates[kind] = top["fields"]["dates"][kind]
        prov[f"dates.{kind}"] = top["key"]
    if dates:
        chosen["dates"] = dates


def _union_links(ordered: list[dict[str, Any]], chosen: dict[str, Any]) -> None:
    links: dict[str, list[str]] = {}
    for r in ordered:
        for kind, urls in r["fields"].get("links", {}).items():
            bucket = links.setdefault(kind, [])
            bucket.extend(u for u in urls if u not in bucket)
    if links:
        chosen["links"] = links
