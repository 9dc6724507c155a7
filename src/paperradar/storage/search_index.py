"""The keyword search engine of a big SQLite library: a Tantivy index beside it (`<library>.tantivy/`).

FTS5's bm25 scores every paper that matches and reads each word's whole doclist per query, so a
common word costs time in proportion to the papers that have it (at 3M papers "learning" matches
about a million). Tantivy (Rust, memory-mapped segments) scores and counts the same matches an
order of magnitude faster. This module builds the index and keeps track of what it no longer
covers; search_engine.py asks it questions.

Words are indexed exactly as papers_fts has them: the text is split into words, and each distinct
word is tokenized once by FTS5 itself (`porter unicode61 remove_diacritics 2`, in a private
in-memory table); Tantivy receives the stems separated by spaces, one position per FTS5 token. So a
word, a phrase, a prefix or a hyphenated word matches the same papers in both engines. One field
holds the title four times, the abstract and the authors, with a separator token between them (no
phrase matches across it): a title word counts four times, as FTS5's bm25 weights count it, and a
word's paper count and the saturation are over the whole paper, as in FTS5.

Phrases of common words: a phrase is matched and scored from its words' positions, so "large
language" or "model and" read the positions of every paper holding both words (a million at 3M:
~300 ms). The build finds the common tokens (in `COMMON_SHARE` of a sample of papers or more) and
a second field, `pairs`, holds every two adjacent common tokens of a column as one token
(`pairs_of`): a two-token phrase of common words is then one list of papers, scored like the
phrase (search_engine.py), and a longer one reads positions only where all its pairs are.

Freshness without writing from the search path: the build records the largest `updated_at` and pk
when it starts (`mark`, `max_pk`) and the pks it indexed. A paper imported or changed since has
`updated_at > mark` or `pk > max_pk`; a removed one is missing from `papers`. (A change committed
while the build runs by a writer whose clock says no later than `mark` (an import started before
the build) would go unseen: the build notices any commit by another connection while it runs and
`paperradar index` then builds again.) Searches exclude
those `stale` pks from Tantivy's answer and score the changed ones that match from their current
text (search_engine.py), so keyword search is right between builds; `paperradar index` rebuilds
once more than `REBUILD_SHARE` of the library is stale. Built in a temporary folder and renamed
into place with a format version, so a killed build is never used. SQLite libraries of
`MIN_PAPERS` or more only (PostgreSQL ranks with its own index). Does I/O: SQL on the library's
connection, files beside the library.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from ..errors import InvalidInput
from ..progress import Progress
from . import fts
from .base import Library

FORMAT = 2  # 2: the `pairs` field (2026-12-03)
MIN_PAPERS = 200_000  # smaller libraries rank with FTS5 (fast enough there)
REBUILD_SHARE = 0.02  # `index` rebuilds once this share of the papers changed since the build
MAX_STALE = 20_000  # more stale papers than this and searches use FTS5 until the next `index`
TOKENIZE = "porter unicode61 remove_diacritics 2"  # papers_fts's (migrations.py); a test pins them equal
FIELD = "text"  # the one ranked field: the title `TITLE_COPIES` times, the abstract, the authors
TITLE_COPIES = int(fts.W_TITLE)  # FTS5 counts a title word four times (fts.py's bm25 weights)
SEPARATOR = "|"  # a token between the copies and columns: no phrase runs across it, no query has it
CHUNK = 5_000
WORKERS = 2  # processes that tokenize while this one feeds Tantivy (libraries of MIN_PAPERS or more)
WRITER_HEAP = 400_000_000  # bytes Tantivy buffers before writing a segment
ENABLED = True  # bench/search.py turns it off to time the FTS5 ranking in the same run
PAIRS = "pairs"  # adjacent common tokens as one token "a_b", as often as in FIELD (`pairs_of`)
FILLER = "~"  # pads the pairs field to FIELD's length (no query has it), so both have the same lengths
COMMON_SHARE = 0.02  # a token in this share of the sampled papers or more is common
SAMPLE = 20_000  # papers sampled (in `SAMPLE_RANGES` runs of pks spread over the library) to find them
SAMPLE_RANGES = 20
_ANALYZER = "fts5"
_WORD = re.compile(r"[\w\u0300-\u036f]+")  # unicode61's token characters (with "_" made a space first)


def folder_of(lib: Library) -> Path | None:
    from . import side_path

    return side_path(lib.path, ".tantivy")


def sqlite_conn(lib: Library) -> sqlite3.Connection | None:
    conn = getattr(lib, "conn", None)
    return conn if isinstance(conn, sqlite3.Connection) else None


# ---------------------------------------------------------------- FTS5's tokens


class Stems:
    """Lower-cased word -> papers_fts's tokens for it (space-separated), learnt from FTS5 in batches."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize={TOKENIZE!r})")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()

    def learn(self, words: Iterable[str]) -> None:
        new = list(set(words) - self.known.keys())
        if not new:
            return
        with self._lock:
            out: list[list[str]] = [[] for _ in new]
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM t")
            self._conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(new, start=1))
            for term, doc in self._conn.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
                out[doc - 1].append(term)
            self._conn.execute("COMMIT")
            self.known.update(zip(new, (" ".join(o) for o in out), strict=True))

    def tokens(self, text: str | None) -> list[str]:
        """`text` as papers_fts indexes it: its tokens in order."""
        words = words_of(text)
        self.learn(words)
        return " ".join(self.known[w] for w in words).split()


def words_of(text: str | None) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " ")) if text else []


# ---------------------------------------------------------------- the schema and the side index


def schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_integer_field("pk", stored=False, indexed=True, fast=True)
    b.add_text_field(FIELD, stored=False, tokenizer_name=_ANALYZER, index_option="position")
    b.add_text_field(PAIRS, stored=False, tokenizer_name=_ANALYZER, index_option="freq")
    b.add_text_field("category", stored=False, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("date", stored=False, indexed=True, fast=True)  # 20241013; 20240000 for "2024"
    b.add_integer_field("has_code", stored=False, indexed=True, fast=False)
    return b.build()


def date_number(iso: str | None) -> int | None:
    """An ISO date, maybe partial, as a sortable number ("2024-10" -> 20241000)."""
    if not iso or not iso[:4].isdigit():
        return None
    parts = (iso.split("-") + ["0", "0"])[:3]
    try:
        return int(parts[0]) * 10_000 + int(parts[1] or 0) * 100 + int(parts[2][:2] or 0)
    except ValueError:
        return None


@dataclass
class SideIndex:
    """An opened side index: the Tantivy searcher, the build's statistics, and what is stale."""

    folder: Path
    index: tantivy.Index
    searcher: tantivy.Searcher
    meta: dict[str, Any]
    pks: np.ndarray  # the pks indexed, ascending
    common: frozenset[str]  # the tokens whose adjacent pairs the `pairs` field holds
    stale_key: tuple[int, int] = (-1, -1)
    stale: frozenset[int] = frozenset()
    changed: tuple[int, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)


def _open(folder: Path) -> tantivy.Index:
    index = tantivy.Index.open(str(folder))
    index.register_tokenizer(_ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return index


_CACHE: dict[str, tuple[tuple[int, int], SideIndex]] = {}
STEMS = Stems()  # shared by every query (words are learnt once per process)


def load(lib: Library) -> SideIndex | None:
    """The library's side index when it exists in this format (cached per folder until rebuilt)."""
    folder = folder_of(lib)
    if folder is None or sqlite_conn(lib) is None:
        return None
    try:
        st = (folder / "paperradar.json").stat()
    except OSError:
        return None
    stamp = (st.st_ino, st.st_mtime_ns)
    cached = _CACHE.get(str(folder))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    meta = json.loads((folder / "paperradar.json").read_text())
    if meta.get("format") != FORMAT:
        return None
    index = _open(folder)
    pks = np.load(folder / "pks.npy", mmap_mode="r")
    side = SideIndex(folder, index, index.searcher(), meta, pks, frozenset(meta["common"]))
    _CACHE[str(folder)] = (stamp, side)
    return side


def stale_pks(lib: Library, side: SideIndex) -> tuple[frozenset[int], tuple[int, ...]] | None:
    """(pks to leave out of Tantivy's answers, those of them to score from their current text),
    recomputed only when the library changed; None when too many to search around."""
    conn = sqlite_conn(lib)
    assert conn is not None
    key = (_data_version(conn), conn.total_changes)
    with side.lock:
        if key != side.stale_key:
            side.stale, side.changed = _stale(conn, side)
            side.stale_key = key
        if len(side.stale) > MAX_STALE:
            return None
        return side.stale, side.changed


def _stale(conn: sqlite3.Connection, side: SideIndex) -> tuple[frozenset[int], tuple[int, ...]]:
    mark, max_pk = side.meta["mark"], side.meta["max_pk"]
    changed = [
        int(r[0])
        for r in conn.execute("SELECT pk FROM papers WHERE updated_at > ? OR pk > ?", (mark, max_pk))
    ]
    # Whole-table reads only: SQLite answers them from its smallest index (0.06 s at 3M papers), where
    # a range of pks reads the table itself (23 s at 3M from a cold cache, after every write).
    (papers,) = conn.execute("SELECT count(*) FROM papers").fetchone()
    (newer,) = conn.execute("SELECT count(*) FROM papers WHERE pk > ?", (max_pk,)).fetchone()
    removed: Sequence[int] = ()
    if int(papers) - int(newer) != len(side.pks):  # some were removed (a merge, `papers remove`)
        have = np.fromiter((r[0] for r in conn.execute("SELECT pk FROM papers")), np.int64)
        removed = np.setdiff1d(side.pks, have[have <= max_pk]).tolist()
    return frozenset(changed) | frozenset(removed), tuple(changed)


# ---------------------------------------------------------------- building


_ROWS = """SELECT p.pk, p.title, p.abstract, p.authors, p.date, json_extract(p.data, '$.has_code'),
  (SELECT group_concat(c.category, ' ') FROM paper_categories c WHERE c.paper_pk = p.pk)
  FROM papers p WHERE p.pk > ? AND p.pk <= ? ORDER BY p.pk"""


def build(lib: Library, progress: Progress | None = None, workers: int | None = None) -> dict[str, Any]:
    """Build the side index from the library's papers, replacing the old one only when complete.
    `workers` processes tokenize (default: `WORKERS` for a library of `MIN_PAPERS` or more, else none)."""
    conn, folder = sqlite_conn(lib), folder_of(lib)
    if conn is None or folder is None:
        raise InvalidInput("a Tantivy side index is for SQLite libraries on disk")
    started, version = time.perf_counter(), _data_version(conn)
    mark, max_pk, papers = conn.execute(
        "SELECT coalesce(max(updated_at), ''), coalesce(max(pk), 0), count(*) FROM papers"
    ).fetchone()
    if workers is None:
        workers = WORKERS if papers >= MIN_PAPERS else 0
    tmp = folder.with_name(folder.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)  # what a killed build left
    tmp.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(tmp))
    index.register_tokenizer(_ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=min(2, os.cpu_count() or 1))
    pks: list[int] = []
    tokens = 0
    ranges = _ranges(conn)
    common = common_tokens(conn, ranges)
    for prepared in _prepared_chunks(lib.path, ranges, common, workers):
        for paper in prepared:
            writer.add_document(_document(paper))
            tokens += paper[2]
        pks += [paper[0] for paper in prepared]
        if progress is not None:
            progress(len(pks), int(papers), "keyword index (Tantivy)")
    writer.commit()
    writer.wait_merging_threads()
    np.save(tmp / "pks.npy", np.asarray(pks, dtype=np.int64))
    meta = {"format": FORMAT, "mark": mark, "max_pk": int(max_pk), "papers": len(pks), "tokens": tokens}
    meta["common"] = sorted(common)
    meta["written_during_build"] = _data_version(conn) != version  # then the next `index` builds again
    meta["seconds"] = round(time.perf_counter() - started, 1)
    (tmp / "paperradar.json").write_text(json.dumps(meta))
    _swap(tmp, folder)
    return meta


def _ranges(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(after, up to) pk ranges of `CHUNK` papers each, ascending."""
    pks = [int(r[0]) for r in conn.execute("SELECT pk FROM papers ORDER BY pk")]
    ends = pks[CHUNK - 1 :: CHUNK] + ([pks[-1]] if pks and len(pks) % CHUNK else [])
    return list(zip([0, *ends[:-1]], ends, strict=True))


def common_tokens(conn: sqlite3.Connection, ranges: list[tuple[int, int]]) -> frozenset[str]:
    """The tokens in `COMMON_SHARE` of the papers or more, from a sample: `SAMPLE_RANGES` runs of
    consecutive pks spread evenly over the library, `SAMPLE` papers in all. (A phrase of two such
    tokens is looked up in the `pairs` field, so its positions are read only where the pair is.)"""
    starts = sorted(
        {ranges[i * len(ranges) // SAMPLE_RANGES][0] for i in range(SAMPLE_RANGES)} if ranges else set()
    )
    stems, df, seen = Stems(), dict[str, int](), 0
    for after in starts:
        rows = conn.execute(
            "SELECT title, abstract, authors FROM papers WHERE pk > ? ORDER BY pk LIMIT ?",
            (after, SAMPLE // SAMPLE_RANGES),
        ).fetchall()
        for row in rows:
            for token in set(itertools.chain.from_iterable(stems.tokens(c) for c in row)):
                df[token] = df.get(token, 0) + 1
        seen += len(rows)
    return frozenset(t for t, n in df.items() if n >= COMMON_SHARE * seen) if seen else frozenset()


def pairs_of(title: str, abstract: str, authors: str, common: frozenset[str]) -> str:
    """The `pairs` field of a paper from its columns' tokens (each a space-separated string): every
    two adjacent tokens of one column that are both common, as "a_b" ("_" is in no token), as often
    as FIELD has them (the title's `TITLE_COPIES` times), then `FILLER` up to FIELD's length.

    So a pair's frequency in a paper is the two-token phrase's, and its length and average length
    are FIELD's: its BM25 is the phrase's up to the idf (search_engine.py boosts it by the ratio),
    from one list of papers, without reading positions."""
    out: list[str] = []
    for column, copies in ((title, TITLE_COPIES), (abstract, 1), (authors, 1)):
        tokens = column.split()
        out += [f"{a}_{b}" for a, b in itertools.pairwise(tokens) if a in common and b in common] * copies
    size = len(composed(title, abstract, authors).split())
    return " ".join(out + [FILLER] * (size - len(out)))


def _prepared_chunks(
    path: str, ranges: list[tuple[int, int]], common: frozenset[str], workers: int
) -> Iterator[list[Prepared]]:
    """Each range's papers tokenized, in order: in `workers` processes of their own, or here."""
    jobs = [(path, after, upto, common) for after, upto in ranges]
    if workers <= 0:
        yield from map(_prepare_range, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(_prepare_range, jobs)


# pk, text, tokens, date, has_code, categories, pairs
Prepared = tuple[int, str, int, int | None, int, list[str], str]
_WORKER_STEMS: list[Stems] = []


def _prepare_range(job: tuple[str, int, int, frozenset[str]]) -> list[Prepared]:
    path, after, upto, common = job
    if not _WORKER_STEMS:
        _WORKER_STEMS.append(Stems())
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(_ROWS, (after, upto)).fetchall()
    finally:
        conn.close()
    return _prepare(_WORKER_STEMS[0], rows, common)


def composed(title: str, abstract: str, authors: str) -> str:
    """The indexed text of a paper from its columns' tokens (each a space-separated string)."""
    return f" {SEPARATOR} ".join([title] * TITLE_COPIES + [abstract, authors])


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits to the library."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _prepare(stems: Stems, rows: list[Any], common: frozenset[str]) -> list[Prepared]:
    words = [[words_of(r[1]), words_of(r[2]), words_of(r[3])] for r in rows]
    stems.learn(itertools.chain.from_iterable(itertools.chain.from_iterable(words)))
    known = stems.known
    out: list[Prepared] = []
    for r, columns in zip(rows, words, strict=True):
        strings = [" ".join(map(known.__getitem__, column)) for column in columns]
        text = composed(*strings)
        size = text.count(" ") + 1 - text.count("  ")  # (a word FTS5 finds no token in leaves two)
        pairs = pairs_of(strings[0], strings[1], strings[2], common)
        out.append(
            (int(r[0]), text, size, date_number(r[4]), 1 if r[5] == 1 else 0, (r[6] or "").split(), pairs)
        )
    return out


def _document(paper: Prepared) -> tantivy.Document:
    pk, text, _, day, has_code, categories, pairs = paper
    doc = tantivy.Document()
    doc.add_integer("pk", pk)
    doc.add_text(FIELD, text)
    doc.add_text(PAIRS, pairs)
    if day is not None:
        doc.add_integer("date", day)
    doc.add_integer("has_code", has_code)
    for c in categories:
        doc.add_text("category", c)
        if "." in c:
            doc.add_text("category", "~" + c.split(".")[0])  # the archive: filter `cs` is any cs.*
    return doc


def _swap(tmp: Path, folder: Path) -> None:
    """Put a finished build in place: the old index is renamed away first, then removed."""
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    _CACHE.pop(str(folder), None)


def drop(lib: Library) -> bool:
    """Remove the side index (after `papers rebuild` numbers the papers anew, its pks name other
    papers); keyword search uses FTS5 until `paperradar index` builds it again. Also removes the
    per-word lists (`<library>.terms/`) of paperradar before this index, which nothing reads now."""
    from . import side_path

    if (lists := side_path(lib.path, ".terms")) is not None:
        shutil.rmtree(lists, ignore_errors=True)
    folder = folder_of(lib)
    if folder is None or not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    _CACHE.pop(str(folder), None)
    return True


def sync(lib: Library, progress: Progress | None = None) -> dict[str, Any]:
    """What `paperradar index` calls: build the side index of a SQLite library of `MIN_PAPERS` or
    more when it is missing, of another format or more than `REBUILD_SHARE` stale; drop it below."""
    conn, folder = sqlite_conn(lib), folder_of(lib)
    if conn is None or folder is None:
        return {}
    (papers,) = conn.execute("SELECT count(*) FROM papers").fetchone()
    if papers < MIN_PAPERS:
        drop(lib)
        return {}
    side = load(lib)
    if side is not None:
        stale, _ = _stale(conn, side)
        if len(stale) <= REBUILD_SHARE * side.meta["papers"] and not side.meta.get("written_during_build"):
            return {"keyword_index": "up to date", "stale": len(stale)}
    return {"keyword_index": build(lib, progress)}
