"""Matching: which stored paper an incoming record belongs to (ids, then title, then abstract:
dedupe.py's rules), over what a whole import command has looked up so far. Does I/O (reads
through the `Library`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .. import dedupe
from ..dedupe import Candidate, Probe
from ..storage import Library, MatchRow, PaperValues, RecordRow


def _publisher_doi(alias: str) -> bool:
    """A DOI given by a publisher (typed or pasted by people, so sometimes wrong); not arXiv's."""
    return alias.startswith("doi:") and not alias.startswith("doi:10.48550/")


_WORD = re.compile(r"[A-Za-z]{7,}")
KEEP_PAPERS = 200_000  # papers a MatchState remembers before it forgets them (`trim`): ~0.7 GB


class MatchState:
    """What matching keeps for a whole import command: the weak-paper index, the user's split
    corrections, and every alias and title key looked up so far with the papers found.

    Built once per command and kept current by each batch (`Matcher.register`), so the second
    of 21 files into a big library costs only its own lookups. Valid while this process is the
    only writer, which an import command is (`BEGIN IMMEDIATE` per batch).
    """

    def __init__(self, lib: Library):
        self.lib = lib
        self._weak: WeakPapers | None = None
        self.splits = {frozenset((a, b)) for kind, a, b in lib.corrections() if kind == "split"}
        self.alias: dict[str, int] = {}
        self.titles: dict[str, list[int]] = {}
        self.cands: dict[int, Candidate] = {}
        self.keys_of: dict[int, set[str]] = {}
        self._asked_aliases: set[str] = set()
        self._asked_titles: set[str] = set()

    def trim(self, limit: int = KEEP_PAPERS) -> None:
        """Forget what was looked up once it holds more than `limit` papers (between transactions:
        the library answers the same, from its indexes), so a 3M-record import stays in memory."""
        if len(self.cands) <= limit:
            return
        self.alias, self.titles, self.cands, self.keys_of = {}, {}, {}, {}
        self._asked_aliases, self._asked_titles = set(), set()

    @property
    def weak(self) -> WeakPapers:
        """The weak-paper index, loaded when a record first needs it (many imports never do)."""
        if self._weak is None:
            self._weak = WeakPapers(self.lib)
        return self._weak

    def prefetch(self, probes: list[Probe]) -> None:
        """Look up the aliases and title keys of `probes` not looked up before (one query each)."""
        aliases = sorted({i for p in probes for i in p.ids} - self._asked_aliases)
        titles = sorted({p.title_key for p in probes if p.title_key} - self._asked_titles)
        found = self.lib.papers_by_alias(aliases) if aliases else {}
        for alias, pk in found.items():
            self.alias.setdefault(alias, pk)
        by_title = self.lib.papers_by_title_key(titles) if titles else {}
        for key, pks in by_title.items():
            known = self.titles.setdefault(key, [])
            known.extend(pk for pk in pks if pk not in known)
        self._asked_aliases.update(aliases)
        self._asked_titles.update(titles)
        self.load(set(found.values()) | {pk for pks in by_title.values() for pk in pks})

    def load(self, pks: Iterable[int]) -> None:
        missing = [pk for pk in pks if pk not in self.cands]
        for row in self.lib.match_view(missing):
            self.cands[row.pk] = _candidate(row)


class Matcher:
    """Finds the paper an incoming record belongs to, for one batch, over a command's MatchState."""

    def __init__(self, state: MatchState, probes: list[Probe], before_text_search: Callable[[], None]):
        self.state = state
        self.lib = state.lib
        self.before_text_search = before_text_search
        state.prefetch(probes)
        self.alias, self.titles, self.cands = state.alias, state.titles, state.cands
        self.splits = state.splits
        self._keys_cache = state.keys_of
        self.conflicts: list[str] = []  # ids shared with a paper whose title clearly differs

    def _load(self, pks: Iterable[int]) -> None:
        self.state.load(pks)

    def match(self, probe: Probe, key: str) -> int | None:
        for alias in sorted(probe.ids):
            pk = self.alias.get(alias)
            if pk is None or not self._allowed(key, pk):
                continue
            if _publisher_doi(alias) and pk in self.cands and dedupe.titles_disagree(probe, self.cands[pk]):
                self.conflicts.append(alias)  # a wrong id in one record: reported, not merged
                continue
            return pk
        for pk in self.titles.get(probe.title_key, []):
            if self._allowed(key, pk) and dedupe.title_compatible(probe, self.cands[pk]):
                return pk
        pool = self._text_pool(probe)
        hit = dedupe.abstract_match(probe, (self.cands[pk] for pk in pool if self._allowed(key, pk)))
        return hit.pk if hit else None

    def _text_pool(self, probe: Probe) -> list[int]:
        """Papers whose abstract may be this record's: weak papers sharing its text, and for a
        record without id or title (only those pay for it) the best full-text hits."""
        if not probe.abstract:
            return []
        weak = self.state.weak
        pool = weak.candidates(probe.signature) if len(weak) else []
        self._load(pool)
        if not probe.ids or not probe.title_key:
            words = sorted(set(_WORD.findall(probe.abstract)), key=len, reverse=True)[:16]
            self.before_text_search()  # papers new in this batch must be searchable too
            hits = self.lib.text_candidates(words)
            self._load(hits)
            pool.extend(hits)
        return pool

    def _allowed(self, key: str, pk: int) -> bool:
        """False when the user split this record away from a record of that paper."""
        if not self.splits:
            return True
        if pk not in self._keys_cache:
            self._keys_cache[pk] = {r.key for r in self.lib.records_of(pk)}
        return not any(frozenset((key, other)) in self.splits for other in self._keys_cache[pk])

    def register(
        self, pk: int, values: PaperValues, chosen: dict[str, Any], records: list[RecordRow]
    ) -> None:
        for alias in chosen["ids"]:
            self.alias[alias] = pk
        if values.title_key and pk not in self.titles.setdefault(values.title_key, []):
            self.titles[values.title_key].append(pk)
        self.cands[pk] = _candidate(
            MatchRow(
                pk=pk,
                ids=chosen["ids"],
                title_key=values.title_key,
                authors=[a["name"] for a in chosen.get("authors", [])],
                year=values.year,
                abstract=values.abstract,
                dates=chosen.get("dates", {}),
            )
        )
        self._keys_cache[pk] = {r.key for r in records}
        if values.weak:
            self.state.weak.add(pk, self.cands[pk].signature)


class WeakPapers:
    """The papers that only their abstract can identify (no title or no id), indexed by shingles.

    Loaded once per import (a library full of strong arXiv records has none, and then costs nothing).
    """

    def __init__(self, lib: Library):
        self.index = dedupe.ShingleIndex()
        for row in lib.match_view(lib.weak_papers()):
            self.index.add_sample(row.pk, dedupe.abstract_sample(row.abstract, self.index.SAMPLE))

    def __len__(self) -> int:
        return len(self.index)

    def candidates(self, signature: frozenset[int]) -> list[int]:
        return self.index.candidates(signature)

    def add(self, pk: int, signature: frozenset[int]) -> None:
        self.index.add(pk, signature)


def _candidate(row: MatchRow) -> Candidate:
    return Candidate(
        pk=row.pk,
        ids=set(row.ids),
        title_key=row.title_key,
        authors=row.authors,
        year=row.year,
        abstract=row.abstract,
        dates=set(row.dates.values()),
    )
