"""Two-stage keyword ranking for huge match sets: per-word lists of the best papers, kept beside
the library (`<library>.terms/`).

FTS5's bm25 scores every paper that matches, so a common word costs time in proportion to the
papers that have it (at 3M papers "learning" matches about a million). `build_term_lists` stores,
for every index word (a stemmed token) found in at least `min_df` papers, the `depth` papers where
that word alone scores highest (FTS5's own bm25, title weighted as in fts.py), with the statistics
they were scored with. `ranked` answers an AND query of plain words from those lists with the
threshold algorithm: FTS5's bm25 of a query is the sum of its words' scores, so a paper found in
every word's list is scored exactly; a paper found in some is checked for the missing words (their
counts read by FTS5 `highlight` for that paper alone); and a ranking is returned only when no paper
left unchecked could beat its k-th score (every list's last score bounds what a paper missing from
it can get). Otherwise, or for phrases, prefixes, excluded words, any-word queries, words without
a list or pages deeper than `MAX_K`, it returns None and the caller ranks exactly.

Papers added after the lists were built are scored by the same check (up to `MAX_NEW` of them
matching the query); removed ones are dropped. Scores use the statistics of the build (the number
of papers, the average length, each word's paper count); `sync_term_lists` rebuilds when the library
has grown or shrunk by `REBUILD_SHARE` (until then a paper whose text changed keeps its place and score
from the build, e.g. after a merge). SQLite libraries only (PostgreSQL ranks with its own index).
Does I/O: SQL on the library's connection, files beside the library.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import Progress
from . import fts
from .base import Library

FORMAT = 1
TOKENIZE = "porter unicode61 remove_diacritics 2"  # papers_fts's (migrations.py); a test pins them equal
K1, B = 1.2, 0.75  # FTS5's bm25 constants
MIN_PAPERS = 200_000  # smaller libraries rank exactly (a common word matches few enough papers)
MIN_DF = 20_000  # words in fewer papers rank exactly: at most ~20 ms of bm25 on 2 cores
DEPTH = 5_000  # papers kept per word
MAX_K = 1_000  # deeper pages rank exactly
MAX_CHECKS = 200  # papers checked per query before giving up (and ranking exactly)
MAX_NEW = 1_000  # papers newer than the lists that may match before giving up
REBUILD_SHARE = 0.05
SUFFIXES = ("", "e", "s", "es", "ing", "ion", "al", "y", "ed", "ate", "er")
ENABLED = True  # bench/search.py turns it off to time the exact ranking in the same run


@dataclass(frozen=True)
class TermLists:
    """The lists of one library, memory-mapped: `pks`/`scores` hold every word's list, best first."""

    folder: Path
    papers: int  # statistics of the build
    avgdl: float
    max_pk: int
    words: dict[str, tuple[int, int, int]]  # token -> (papers with it, start, end) in pks/scores
    pks: np.ndarray
    scores: np.ndarray

    def idf(self, token: str) -> float:
        df = self.words[token][0]
        value = math.log((self.papers - df + 0.5) / (df + 0.5))
        return value if value > 0 else 1e-6


def folder_of(lib: Library) -> Path | None:
    from . import side_path

    return side_path(lib.path, ".terms")


def _conn(lib: Library) -> sqlite3.Connection | None:
    conn = getattr(lib, "conn", None)
    return conn if isinstance(conn, sqlite3.Connection) else None


# ---------------------------------------------------------------- tokens, varints, statistics


_LOCAL = threading.local()


def tokens(text: str) -> list[str]:
    """`text` as papers_fts indexes it (the same tokenizer, in a private in-memory table)."""
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize={TOKENIZE!r})")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        _LOCAL.conn = conn
    conn.execute("DELETE FROM t")
    conn.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (text,))
    return [r[0] for r in conn.execute("SELECT term FROM v ORDER BY offset")]


def _varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, as FTS5 writes its averages and document sizes."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for n in range(9):
            byte = blob[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def _averages(conn: sqlite3.Connection) -> tuple[int, float]:
    """(papers in the index, average tokens per paper over all columns): what bm25 reads."""
    row = conn.execute("SELECT block FROM papers_fts_data WHERE id = 1").fetchone()
    values = _varints(bytes(row[0])) if row else [0]
    papers = values[0]
    return papers, (sum(values[1:]) / papers if papers else 0.0)


def _sizes(conn: sqlite3.Connection, pks: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in range(0, len(pks), 500):
        chunk = list(pks[i : i + 500])
        q = f"SELECT id, sz FROM papers_fts_docsize WHERE id IN ({','.join('?' * len(chunk))})"
        out.update((int(r[0]), sum(_varints(bytes(r[1])))) for r in conn.execute(q, chunk))
    return out


def contribution(idf: float, freq: float, size: int, avgdl: float) -> float:
    """One phrase's part of FTS5's bm25 (fts5_aux.c), higher is better."""
    return idf * freq * (K1 + 1) / (freq + K1 * (1 - B + B * size / avgdl))


# ---------------------------------------------------------------- building


def build_term_lists(
    lib: Library,
    min_df: int | None = None,
    depth: int = DEPTH,
    progress: Progress | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write `<library>.terms/` from scratch (through a temporary folder: a stop leaves the old one).
    `only` (words) builds just their lists, the same as a whole build makes them (for benchmarks)."""
    conn, folder = _conn(lib), folder_of(lib)
    if conn is None or folder is None:
        return {"words": 0, "skipped": "not a SQLite library file"}
    started = time.perf_counter()
    papers, avgdl = _averages(conn)
    min_df = min_df or max(MIN_DF, papers // 200)
    common = _common(conn, min_df) if only is None else _counted(conn, min_df, only)
    max_pk = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM papers_fts_docsize").fetchone()[0])
    words: dict[str, list[int]] = {}
    pks: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    at = 0
    for n, (token, df) in enumerate(common, start=1):
        word = next((token + s for s in SUFFIXES if tokens(token + s) == [token]), None)
        if word is not None:  # a token no word stems to (none found so far) keeps no list
            rows = conn.execute(
                f"SELECT rowid, -bm25(papers_fts, {fts.W_TITLE}, {fts.W_ABSTRACT}, {fts.W_AUTHORS}) AS s"
                " FROM papers_fts WHERE papers_fts MATCH ? ORDER BY s DESC LIMIT ?",
                (f'"{word}"', depth),
            ).fetchall()
            pks.append(np.array([r[0] for r in rows], dtype=np.int64))
            scores.append(np.array([r[1] for r in rows], dtype=np.float64))
            words[token] = [df, at, at + len(rows)]
            at += len(rows)
        if progress:
            progress(n, len(common), "keyword lists")
    meta = {"format": FORMAT, "papers": papers, "avgdl": avgdl, "max_pk": max_pk, "min_df": min_df}
    _write(folder, {**meta, "depth": depth, "words": words}, pks, scores)
    _CACHE.pop(str(folder), None)
    return {
        "words": len(words),
        "entries": at,
        "min_df": min_df,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _common(conn: sqlite3.Connection, min_df: int) -> list[tuple[str, int]]:
    """Every token in `min_df` papers or more, with its paper count (one pass over the index)."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.papers_fts_rows USING fts5vocab(main, papers_fts, row)"
    )
    q = "SELECT term, doc FROM temp.papers_fts_rows WHERE doc >= ?"
    return [(r[0], int(r[1])) for r in conn.execute(q, (min_df,))]


def _counted(conn: sqlite3.Connection, min_df: int, words: Sequence[str]) -> list[tuple[str, int]]:
    """The tokens of these words that are in `min_df` papers or more, with their paper counts."""
    found = {tuple(tokens(w)): w for w in words}
    out = []
    for toks, word in found.items():
        if len(toks) == 1:
            q = "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?"
            df = int(conn.execute(q, (fts.Term(word).fts(),)).fetchone()[0])
            out += [(toks[0], df)] if df >= min_df else []
    return sorted(out)


def _write(folder: Path, meta: dict[str, Any], pks: list[np.ndarray], scores: list[np.ndarray]) -> None:
    tmp = folder.with_name(folder.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.save(tmp / "pks.npy", np.concatenate(pks) if pks else np.zeros(0, np.int64))
    np.save(tmp / "scores.npy", np.concatenate(scores) if scores else np.zeros(0, np.float64))
    (tmp / "meta.json").write_text(json.dumps(meta))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def sync_term_lists(lib: Library, progress: Progress | None = None) -> dict[str, Any]:
    """Build the lists of a library of `MIN_PAPERS` or more when they are missing or the library's
    size moved by `REBUILD_SHARE` since; drop them below. What `paperradar index` calls."""
    conn, folder = _conn(lib), folder_of(lib)
    if conn is None or folder is None:
        return {}
    papers, _ = _averages(conn)
    if papers < MIN_PAPERS:
        shutil.rmtree(folder, ignore_errors=True)
        return {}
    have = load(lib)
    if have is not None and abs(papers - have.papers) <= REBUILD_SHARE * have.papers:
        return {"keyword_lists": "up to date"}
    return {"keyword_lists": build_term_lists(lib, progress=progress)}


def drop(lib: Library) -> bool:
    """Remove the library's lists (after `papers rebuild` numbers the papers anew, every pk in them
    names another paper); keyword search ranks exactly until `paperradar index` builds them again."""
    folder = folder_of(lib)
    if folder is None or not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    _CACHE.pop(str(folder), None)
    return True


_CACHE: dict[str, tuple[float, TermLists]] = {}


def load(lib: Library) -> TermLists | None:
    """The library's lists (memory-mapped, cached per folder until it is rewritten), or None."""
    folder = folder_of(lib)
    meta_path = folder / "meta.json" if folder is not None else None
    if folder is None or meta_path is None or not meta_path.exists():
        return None
    stamp = meta_path.stat().st_mtime
    cached = _CACHE.get(str(folder))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        return None
    words = {t: (int(v[0]), int(v[1]), int(v[2])) for t, v in meta["words"].items()}
    lists = TermLists(
        folder, int(meta["papers"]), float(meta["avgdl"]), int(meta["max_pk"]), words,
        np.load(folder / "pks.npy", mmap_mode="r"), np.load(folder / "scores.npy", mmap_mode="r"),
    )  # fmt: skip
    _CACHE[str(folder)] = (stamp, lists)
    return lists


# ---------------------------------------------------------------- ranking from the lists


@dataclass(frozen=True)
class _Words:
    tokens: list[str]  # distinct index tokens of the query
    words: list[str]  # a word the user typed for each (its MATCH string finds the token)
    times: np.ndarray  # how often each token is in the query: bm25 adds each occurrence


def ranked(
    lib: Library,
    terms: Sequence[fts.Term],
    excluded: Sequence[fts.Term],
    joiner: fts.Joiner,
    f: fts.Filters,
    k: int,
) -> list[tuple[int, float]] | None:
    """The best `k` papers of an AND query of plain words, best first, as (pk, -bm25) like
    `text_ranked`; None when the lists cannot answer it with certainty (rank exactly then)."""
    if not ENABLED or excluded or joiner != "AND" or not 0 < k <= MAX_K:
        return None
    conn = _conn(lib)
    lists = load(lib) if conn is not None else None
    if conn is None or lists is None or any(t.phrase or t.prefix for t in terms):
        return None
    found: dict[str, str] = {}
    times: Counter[str] = Counter()
    for t in terms:
        toks = tokens(t.text)
        if len(toks) != 1 or toks[0] not in lists.words:  # a phrase to FTS5, or a word without a list
            return None
        found.setdefault(toks[0], t.text)
        times[toks[0]] += 1
    q = _Words(list(found), list(found.values()), np.array([times[t] for t in found], dtype=np.float64))
    return _Threshold(lib, conn, lists, q, f, fts.match_expression(terms)).run(k)


class _Threshold:
    """One query's threshold algorithm over the lists (see the module docstring)."""

    def __init__(
        self, lib: Library, conn: sqlite3.Connection, lists: TermLists, q: _Words, f: fts.Filters, match: str
    ):
        self.lib, self.conn, self.lists, self.q, self.f, self.match = lib, conn, lists, q, f, match
        spans = [lists.words[t] for t in q.tokens]
        pks = np.concatenate([np.asarray(lists.pks[s:e]) for _, s, e in spans])
        which = np.concatenate([np.full(e - s, i) for i, (_, s, e) in enumerate(spans)])
        part = np.concatenate([np.asarray(lists.scores[s:e]) for _, s, e in spans]) * q.times[which]
        # a list holding fewer papers than have the word is cut: a paper missing from it scores at most its last
        self.floors = (
            np.array([lists.scores[e - 1] if e > s and df > e - s else 0.0 for df, s, e in spans]) * q.times
        )
        self.uniq, inv = np.unique(pks, return_inverse=True)
        self.present = np.zeros((len(self.uniq), len(spans)), dtype=bool)
        self.present[inv, which] = True
        self.known = np.bincount(inv, weights=part, minlength=len(self.uniq))
        self.upper = self.known + (~self.present).astype(np.float64) @ self.floors
        self.exact: dict[int, float] = {}  # papers passing the filters, with their exact scores
        self.checks = 0

    def theta(self, k: int) -> float:
        best = sorted(self.exact.values(), reverse=True)
        return best[k - 1] if len(best) >= k else -math.inf

    def hopeless(self, k: int) -> bool:
        """Whether the lists surely cannot answer: the k-th score is at most the k-th best upper
        bound, and papers in no list, or more papers than `MAX_CHECKS` in some, could beat that."""
        if len(self.upper) < k:
            return True
        best = float(np.partition(self.upper, len(self.upper) - k)[len(self.upper) - k])
        partial = ~self.present.all(axis=1)
        return float(self.floors.sum()) > best or int((partial & (self.upper > best)).sum()) > MAX_CHECKS

    def run(self, k: int) -> list[tuple[int, float]] | None:
        if self.hopeless(k):
            return None
        new = self.new_papers()
        if new is None:
            return None
        full = np.flatnonzero(self.present.all(axis=1))
        full = full[np.argsort(-self.known[full], kind="stable")]
        at, step = 0, 2 * k
        while at < len(full) and len(self.exact) < k:  # papers in every list: exact; keep those still there
            rows = full[at : at + step]
            allowed = self.allowed([int(p) for p in self.uniq[rows]])
            self.exact.update(
                (int(self.uniq[j]), float(self.known[j])) for j in rows if int(self.uniq[j]) in allowed
            )
            at, step = at + step, step * 4
        if new and not self.check_new(new):
            return None
        partial = np.flatnonzero(~self.present.all(axis=1))
        partial = partial[np.argsort(-self.upper[partial], kind="stable")]
        if int((self.upper[partial] > self.theta(k)).sum()) > 4 * MAX_CHECKS:  # most likely too many
            return None
        at = 0
        while at < len(partial) and self.upper[partial[at]] > self.theta(k):
            batch = [int(j) for j in partial[at : at + 64] if self.upper[j] > self.theta(k)]
            at += 64
            self.checks += len(batch)
            if self.checks > MAX_CHECKS:
                return None
            self.check(batch)
        if float(self.floors.sum()) > self.theta(k):  # a paper in no list could still beat the k-th
            return None
        return sorted(self.exact.items(), key=lambda kv: -kv[1])[:k]

    def new_papers(self) -> list[int] | None:
        """Papers added after the lists were built that match (None: too many to check)."""
        q = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid > ? LIMIT ?"
        rows = [int(r[0]) for r in self.conn.execute(q, (self.match, self.lists.max_pk, MAX_NEW + 1))]
        return None if len(rows) > MAX_NEW else rows

    def check(self, rows: list[int]) -> None:
        """Score papers found in some lists: the missing words counted for each (absent: not a match)."""
        pks = [int(self.uniq[j]) for j in rows]
        allowed = self.allowed(pks)
        todo = {pk: j for pk, j in zip(pks, rows, strict=True) if pk in allowed}
        missing = {
            i: [pk for pk, j in todo.items() if not self.present[j, i]] for i in range(len(self.q.tokens))
        }
        extra = self.score(missing)
        for pk, j in todo.items():
            if all(pk in extra[i] for i, want in missing.items() if pk in want):
                self.exact[pk] = float(self.known[j]) + sum(extra[i].get(pk, 0.0) for i in missing)

    def allowed(self, pks: list[int]) -> set[int]:
        """Which papers are still in the library and pass the filters (without filters, read from
        FTS5's small table of document sizes rather than the papers' rows)."""
        if self.f.active:
            return self.lib.text_allowed(self.f, pks)
        return set(_sizes(self.conn, pks))

    def check_new(self, new: list[int]) -> bool:
        allowed = self.allowed(new)
        todo = [pk for pk in new if pk in allowed]
        extra = self.score({i: todo for i in range(len(self.q.tokens))})
        for pk in todo:
            if all(pk in e for e in extra.values()):
                self.exact[pk] = sum(e[pk] for e in extra.values())
        return True

    def score(self, wanted: dict[int, list[int]]) -> dict[int, dict[int, float]]:
        """For each token index, the papers (of those wanted) that have it: pk -> its bm25 part."""
        pks = sorted({pk for some in wanted.values() for pk in some})
        sizes = _sizes(self.conn, pks) if pks else {}
        out: dict[int, dict[int, float]] = {}
        for i, some in wanted.items():
            idf = self.lists.idf(self.q.tokens[i]) * float(self.q.times[i])
            freqs = _freqs(self.conn, self.q.words[i], some) if some else {}
            out[i] = {pk: contribution(idf, fr, sizes[pk], self.lists.avgdl) for pk, fr in freqs.items()}
        return out


_HIGHLIGHT = ", ".join(f"highlight(papers_fts, {c}, '{fts.MARK_OPEN}', '')" for c in range(3))


def _freqs(conn: sqlite3.Connection, word: str, pks: Sequence[int]) -> dict[int, float]:
    """For the papers that have `word`: its title-weighted count, as bm25 counts it (FTS5 looks each
    paper up by rowid; `highlight` marks every occurrence)."""
    weights = (fts.W_TITLE, fts.W_ABSTRACT, fts.W_AUTHORS)
    q = (
        f"SELECT rowid, {_HIGHLIGHT} FROM papers_fts WHERE papers_fts MATCH ?"
        f" AND rowid IN ({','.join('?' * len(pks))})"
    )
    out: dict[int, float] = {}
    for row in conn.execute(q, [fts.Term(word).fts(), *pks]):
        out[int(row[0])] = sum(
            w * (text or "").count(fts.MARK_OPEN) for w, text in zip(weights, row[1:], strict=True)
        )
    return out
