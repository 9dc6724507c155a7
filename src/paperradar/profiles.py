"""Researcher profiles: built from an author name (telling apart the people who share it), a list
of ids or any importable file; kept apart into named interests; taught by feedback (like,
dislike, not interested, undo). The service layer the CLI, web app and digests share.
Does I/O through the library (and the embedder, when the library has an index).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .embed import text_for
from .errors import Conflict, InvalidInput, NotFound
from .importers.base import Source
from .ingest import ImportReport, now_iso
from .normalize import ids_from_text
from .rank import interests as ranking
from .rank.people import group_papers, same_name
from .stopwords import STOP_WORDS
from .storage import profiles as store
from .storage.base import Library
from .storage.profiles import AuthorPaper, Interest, ProfileRow

FEEDBACK_KINDS = store.FEEDBACK_KINDS
NEGATIVE_KINDS = ("dislike", "not_interested")
ID_LIST_MAX = 1 << 20  # a list of ids longer than this is not looked for
EMBED_ON_THE_FLY = 2000  # papers without vectors embedded at once at most (else left out of dense features)


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


@dataclass
class AuthorCandidate:
    """One person behind an author name: their papers in the library and what tells them apart."""

    index: int  # 1-based, for `--pick`
    name: str  # the spelling used most
    papers: list[str]
    paper_pks: list[int]
    coauthors: list[str]
    topics: list[str]
    categories: list[str]
    years: tuple[int | None, int | None]


class AmbiguousAuthor(InvalidInput):
    """The name covers several people; `candidates` lists them (pick one with `pick`)."""

    def __init__(self, name: str, candidates: list[AuthorCandidate]):
        self.candidates = candidates
        super().__init__(
            f"{name!r} matches {len(candidates)} different people in the library; "
            "choose one with --pick N (see the candidates listed)"
        )


# ---------------------------------------------------------------- authors


def author_candidates(lib: Library, name: str) -> list[AuthorCandidate]:
    """The people in the library with this name, most papers first (empty when none)."""
    words = re.findall(r"[^\W\d_][\w'-]*", name)
    if not words:
        raise InvalidInput(f"author name {name!r} has no letters")
    rows = [r for r in store.author_rows(lib, words[-1]) if any(same_name(name, a) for a in r.authors)]
    groups = group_papers(
        name,
        [r.authors for r in rows],
        [text_for(r.title, r.abstract) for r in rows],
        [r.categories for r in rows],
        dense_rows(lib, [r.pk for r in rows]) if rows else None,
    )
    return [_candidate(n, name, [rows[i] for i in g]) for n, g in enumerate(groups, start=1)]


def _candidate(index: int, name: str, rows: list[AuthorPaper]) -> AuthorCandidate:
    spellings = Counter(a for r in rows for a in r.authors if same_name(name, a))
    co = Counter(a for r in rows for a in r.authors if not same_name(name, a))
    cats = Counter(c for r in rows for c in r.categories[:1])
    words = Counter(
        w.lower()
        for r in rows
        for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", r.title or "")
        if w.lower() not in _TITLE_STOP
    )
    years = sorted(int(r.date[:4]) for r in rows if r.date and r.date[:4].isdigit())
    return AuthorCandidate(
        index=index,
        name=spellings.most_common(1)[0][0],
        papers=[r.id for r in rows],
        paper_pks=[r.pk for r in rows],
        coauthors=[a for a, _ in co.most_common(5)],
        topics=[w for w, _ in words.most_common(5)],
        categories=[c for c, _ in cats.most_common(3)],
        years=(years[0] if years else None, years[-1] if years else None),
    )


_TITLE_STOP = STOP_WORDS  # words that say nothing of what an author works on (stopwords.py)


def candidate_json(c: AuthorCandidate) -> dict[str, Any]:
    return {
        "pick": c.index,
        "name": c.name,
        "papers": len(c.papers),
        "paper_ids": c.papers,
        "coauthors": c.coauthors,
        "topics": c.topics,
        "categories": c.categories,
        "years": list(c.years),
    }


# ---------------------------------------------------------------- papers from ids and files


def resolve_refs(lib: Library, refs: Sequence[str | int]) -> list[int]:
    """Paper pks for ids/aliases (ints are taken as pks); NotFound names every unknown one."""
    pks, missing = [], []
    for ref in refs:
        if isinstance(ref, int):
            pks.append(ref)
            continue
        try:
            pks.append(lib.resolve(ref.strip()))
        except NotFound:
            missing.append(ref)
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise NotFound(f"not in the library: {shown} (import them first, e.g. `paperradar import FILE`)")
    return list(dict.fromkeys(pks))


def id_lines(text: str) -> list[str] | None:
    """The ids of a plain list of ids (one per line, # comments allowed), or None if it is not one."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines or not all(len(ln.split()) == 1 and ids_from_text(ln) for ln in lines):
        return None
    return lines


def papers_in_source(
    lib: Library, source: Source, fmt: str = "auto"
) -> tuple[list[int], ImportReport | None]:
    """The papers a file or pasted text names, in its order: a list of ids is resolved; any other
    importable text is imported first (papers already there are matched, not duplicated)."""
    from . import importers
    from .ingest import import_source, prepare

    if fmt == "auto":
        head = source.head(ID_LIST_MAX)
        ids = id_lines(head.decode("utf-8", errors="replace")) if len(head) < ID_LIST_MAX else None
        if ids is not None:
            return resolve_refs(lib, ids), None
    report = import_source(lib, source, fmt)
    module = importers.detect(source) if fmt == "auto" else importers.load(fmt)
    pks: list[int] = []
    for item in module.parse(source):
        if isinstance(item, Exception):
            continue
        try:
            pks.append(lib.paper_of_record(prepare(item).record.key))
        except NotFound:
            continue
    return list(dict.fromkeys(pks)), report


def papers_in_file(lib: Library, path: str | Path) -> tuple[list[int], ImportReport | None]:
    """`papers_in_source` for a file path, or standard input when path is '-'."""
    if str(path) == "-":
        import sys

        return papers_in_source(lib, Source.from_bytes(sys.stdin.buffer.read(), "<stdin>"))
    if not Path(path).is_file():
        raise InvalidInput(f"{path}: no such file")
    return papers_in_source(lib, Source.from_file(path))


# ---------------------------------------------------------------- profiles


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
        pks = _author_papers(lib, author, pick) + pks
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


def _author_papers(lib: Library, author: str, pick: int | None) -> list[int]:
    cands = author_candidates(lib, author)
    if not cands:
        raise NotFound(f"no papers by {author!r} in the library")
    if pick is not None:
        if not 1 <= pick <= len(cands):
            raise InvalidInput(f"--pick must be between 1 and {len(cands)} for {author!r}")
        return cands[pick - 1].paper_pks
    if len(cands) > 1:
        raise AmbiguousAuthor(author, cands)
    return cands[0].paper_pks


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
    ids = _ids_of(lib, pks + [f.paper_pk for f in marks])
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


def _ids_of(lib: Library, pks: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for pk in set(pks):
        out[pk] = lib.paper_row(pk).id
    return out


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
    once (the next ranking counts them); the interests are re-clustered later, never here
    (`interests_changed`)."""
    kind = kind.replace("-", "_")
    if kind not in FEEDBACK_KINDS:
        raise InvalidInput(f"feedback must be one of {', '.join(FEEDBACK_KINDS)}, not {kind!r}")
    row = store.profile_row(lib, name)
    pk = resolve_refs(lib, [ref])[0]
    now = now_iso()
    with lib.transaction():
        store.add_feedback(lib, row.pk, pk, kind, now)
        store.mark_seen(lib, row.pk, [pk], now)
    if kind == "like":
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
    if gone.kind == "like":
        interests_changed(lib, row.name)
    return FeedbackMark(lib.paper_row(gone.paper_pk).id, gone.kind, gone.created_at)


# ---------------------------------------------------------------- steering


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


def mark_seen(lib: Library, profile: str | Profile, pks: Sequence[int]) -> None:
    """Remember that the profile was shown these papers: they are not recommended again."""
    ppk = profile.pk if isinstance(profile, Profile) else store.profile_row(lib, profile).pk
    with lib.transaction():
        store.mark_seen(lib, ppk, list(pks), now_iso())


def positives_and_negatives(lib: Library, profile_pk: int) -> tuple[list[int], list[int]]:
    """The papers the profile is about (its papers and likes) and the ones it rejected."""
    marks = store.current_feedback(lib, profile_pk)
    negative = [pk for pk, k in marks.items() if k in NEGATIVE_KINDS]
    own = store.paper_pks(lib, profile_pk) + [pk for pk, k in marks.items() if k == "like"]
    positive = [pk for pk in dict.fromkeys(own) if pk not in set(negative)]
    return positive, negative


# ---------------------------------------------------------------- interests


def interests_changed(lib: Library, name: str) -> None:
    """The profile's positives changed (a like, its undo, a reset): the web server's background
    worker re-clusters its interests soon (rank/regroup.py); without one (the CLI), the next
    ranking does (`settle_interests`). Never clusters here, so a like answers at once."""
    from .rank import regroup

    worker = regroup.worker_for(lib.path)
    if worker is not None:
        worker.ask(name)


def interests_stale(profile: Profile) -> bool:
    """Whether the interests group other papers than the profile's positives (papers and likes,
    less those later rejected) now are: after a like, its undo or a reset, until re-clustered."""
    latest = {f.paper: f.kind for f in profile.feedback}  # oldest first: the last mark counts
    liked = [p for p, k in latest.items() if k == "like"]
    positive = {p for p in [*profile.papers, *liked] if latest.get(p) not in NEGATIVE_KINDS}
    return positive != {p for i in profile.interests for p in i.papers}


def settle_interests(lib: Library, profile: Profile) -> bool:
    """Before a ranking: out-of-date interests are re-clustered in the background where a web
    server runs a worker (this ranking uses the old ones, the new likes as one more group of
    nearest-neighbour evidence), else now, once however many likes came since. True when they
    were re-clustered here."""
    from .rank import regroup

    if not interests_stale(profile):
        return False
    worker = regroup.worker_for(lib.path)
    if worker is not None:
        worker.ask(profile.name)
        return False
    refresh_interests(lib, profile.pk)
    return True


def regroup_if_stale(lib: Library, name: str) -> None:
    """The background worker's job for one profile: re-cluster it if it is out of date (a profile
    deleted meanwhile is let be)."""
    try:
        profile = get_profile(lib, name)
    except NotFound:
        return
    if interests_stale(profile):
        refresh_interests(lib, profile.pk)


def refresh_interests(lib: Library, profile_pk: int) -> None:
    """Cluster the profile's positive papers into interests (on their dense rows when the library
    has embeddings, else their TF-IDF rows) and name them by their keyphrases. Uses the features
    that exist, never builds the library's (rank/ready.py). A positive without a features row
    joins the first interest: the interests hold exactly the positives (`interests_stale`)."""
    from .rank.ready import features_for

    pks, _ = positives_and_negatives(lib, profile_pk)
    found: list[Interest] = []
    if pks:
        feats = features_for(lib, pks, sample=0)
        rows = feats.rows(pks)
        rowless = [pk for pk, r in zip(pks, rows, strict=True) if r < 0]
        pks = [pk for pk, r in zip(pks, rows, strict=True) if r >= 0]
        rows = rows[rows >= 0]
        lex = feats.lexical[rows]
        dense = feats.dense[rows] if feats.dense is not None else None
        usable = dense is not None and bool((np.linalg.norm(dense, axis=1) > 0).all())
        # without vectors: the words these papers use, kept sparse (k-means and the silhouette then
        # cost what the papers' words cost, not what the vocabulary's 20,000 columns would)
        space = dense if usable and dense is not None else lex
        ids = _ids_of(lib, pks + rowless)
        for c in ranking.build_clusters(space, lex, feats.names):
            found.append(Interest(c.name, c.terms, [ids[pks[i]] for i in c.members]))
        if rowless:
            first = found[0] if found else Interest("general", [], [])
            found[:1] = [Interest(first.name, first.terms, first.papers + [ids[pk] for pk in rowless])]
    with lib.transaction():
        store.set_interests(lib, profile_pk, found)


def paper_texts(lib: Library, pks: list[int]) -> list[str]:
    got = {pk: (title, abstract) for pk, title, abstract in lib.paper_texts_of(pks)}
    return [text_for(*got.get(pk, (None, None))) for pk in pks]


def dense_rows(lib: Library, pks: list[int]) -> np.ndarray | None:
    """Embedding rows for these papers from the library's best index (papers not yet embedded are
    embedded now, up to EMBED_ON_THE_FLY; beyond that they get zero rows). None without an index."""
    from .index import best_index

    found = best_index(lib)
    if found is None:
        return None
    index, embedder = found
    out = np.zeros((len(pks), embedder.dim), dtype=np.float32)
    todo = []
    for i, pk in enumerate(pks):
        v = index.vector_of(pk)
        if v is None:
            todo.append(i)
        else:
            out[i] = v
    if todo and len(todo) <= EMBED_ON_THE_FLY:
        texts = paper_texts(lib, [pks[i] for i in todo])
        out[todo] = np.asarray(embedder.embed_batch(texts), dtype=np.float32)
    return out


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
